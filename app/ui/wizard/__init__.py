"""The job creation wizard: source → output → job details → scheduling → publishing → review.

Each page checks its fields before Next and says what is wrong next to the field. Connecting
a sheet runs off the GUI thread with a busy bar and can be cancelled (its answer is then
ignored). Nothing is stored until Create on the last page.
"""

from app.ui.wizard.dialog import JobWizard
from app.ui.wizard.output import OutputPage
from app.ui.wizard.parts import WizardResult

__all__ = ["JobWizard", "OutputPage", "WizardResult"]

"""Google: sign-in, the Sheets client (gspread over a rate-limited, retrying HTTP client),
and status write-back."""

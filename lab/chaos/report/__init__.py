"""What a chaos run leaves for a person: `publish` writes the JSON, the HTML page (with
the SVG pictures of `plots`) and the history, and prints the verdict; `gap_evidence`
says why each client's gap is what it is; `browser` renders a page in headless Chromium,
as a person sees it."""

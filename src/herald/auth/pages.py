"""The pages behind the links Herald mails (magic sign-in, invitations).

Opening a link must not use up its token: mail scanners fetch links before people click them.
So a GET shows a page whose button sends the token with the POST the API documents, and shows
the answer. Herald has no web front end yet; this keeps a mailed link usable without one.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}
input,button{{font:inherit;padding:.4rem;margin:.2rem 0;width:100%}}
pre{{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:1rem}}</style></head>
<body><h1>{title}</h1><p>{intro}</p>
<form id="f" data-action="{action}" data-token="{token}">{fields}
<button type="submit">{button}</button></form><pre id="out" hidden></pre>
<script>
document.getElementById("f").addEventListener("submit", async (event) => {{
  event.preventDefault();
  const form = event.target, body = {{token: form.dataset.token}};
  for (const input of form.querySelectorAll("input")) {{
    if (input.value) body[input.name] = input.value;
  }}
  const response = await fetch(form.dataset.action, {{method: "POST",
    headers: {{"content-type": "application/json"}}, body: JSON.stringify(body)}});
  const out = document.getElementById("out");
  out.hidden = false;
  out.textContent = JSON.stringify(await response.json(), null, 2);
}});
</script></body></html>"""

_NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def token_page(
    *, title: str, intro: str, action: str, token: str, button: str, fields: str = ""
) -> HTMLResponse:
    """A page that POSTs ``token`` (plus any ``fields`` inputs) as JSON to ``action``."""
    html = _PAGE.format(
        title=escape(title),
        intro=escape(intro),
        action=escape(action, quote=True),
        token=escape(token, quote=True),
        fields=fields,
        button=escape(button),
    )
    return HTMLResponse(html, headers=_NO_STORE)

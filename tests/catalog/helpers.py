"""Test helpers for the catalogue's screens."""
import re


def quoted_total(html: str) -> str | None:
    """The fee the request form showed (and will save only when posted back)."""
    match = re.search(r'name="quoted" value="([^"]*)"', html)
    return match.group(1) if match else None


def save_request(client, url: str, data: dict, **kwargs):
    """Save through the generated form as a clerk does: the first Save shows the fee, the second saves it.
    Files sent the first time are kept, so they are not sent again."""
    response = client.post(url, data={**data, "intent": "save"}, **kwargs)
    total = quoted_total(response.get_data(as_text=True)) if response.status_code == 200 else None
    if total is None:
        return response
    again = {k: v for k, v in data.items() if not isinstance(v, tuple)}
    return client.post(url, data={**again, "intent": "save", "quoted": total}, **kwargs)

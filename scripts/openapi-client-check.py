# Calls every route of the JSON API through a client generated from openapi.json (openapi-python-client),
# against a demo server: scripts/openapi-audit runs it. Fails on any unexpected status or body.
import sys
from backlot_json_api_client import Client
from backlot_json_api_client.api.articles import list_articles, get_article, get_article_json_ld
from backlot_json_api_client.api.collections import list_collections, get_collection
from backlot_json_api_client.api.meta import get_open_api
from backlot_json_api_client.api.nodes import get_node
from backlot_json_api_client.api.proof_records import list_proof_records, get_proof_record
from backlot_json_api_client.api.questions import list_questions
from backlot_json_api_client.api.reuse_channels import get_reuse_channel, list_reuse_channel_assets, list_reuse_channel_snippets, list_reuse_channels
from backlot_json_api_client.api.search import search

c = Client(base_url=sys.argv[1], raise_on_unexpected_status=True)
slug = "behind-the-scenes-production-as-brand-proof"
page = list_articles.sync(client=c, limit=3, collection="proof")
print("articles", len(page.items), page.total_count, bool(page.next_cursor))
page2 = list_articles.sync(client=c, limit=3, after=page.next_cursor)
print("page 2", [a.slug for a in page2.items])
a = get_article.sync(slug, client=c)
print("article", a.title, len(a.sections), len(a.questions), len(a.proof_record.assets))
ld = get_article_json_ld.sync_detailed(slug, client=c)
assert ld.status_code == 200 and b"FAQPage" in ld.content
print("jsonld", ld.headers["content-type"])
print("collections", [x.slug for x in list_collections.sync(client=c).items])
print("collection", get_collection.sync("proof", client=c, limit=2).articles.total_count)
print("openapi", get_open_api.sync_detailed(client=c).status_code)
print("node", type(get_node.sync(a.id, client=c)).__name__)
print("records", list_proof_records.sync(client=c).total_count, get_proof_record.sync(slug, client=c).client)
print("questions", list_questions.sync(client=c, article=slug).total_count)
print("channels", len(list_reuse_channels.sync(client=c).items), get_reuse_channel.sync("social-posts", client=c).name)
print("snippets", list_reuse_channel_snippets.sync("social-posts", client=c).total_count, "assets", list_reuse_channel_assets.sync("social-posts", client=c).total_count)
print("search", [type(h).__name__ for h in search.sync(client=c, q="roast").items][:5])
r = get_article.sync_detailed("no-such-page", client=Client(base_url=sys.argv[1]))
print("404", r.status_code, r.parsed)

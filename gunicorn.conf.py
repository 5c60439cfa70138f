"""gunicorn settings for every server of this project: `gunicorn -c gunicorn.conf.py run:app`.

Command-line flags (-w, --threads, -b, ...) still apply on top of these. Only the request limits
and the worker class live here: they are part of the HTTP contract (README, "Limits").
"""

# gunicorn's threaded worker, answering the requests gunicorn itself refuses (request line or
# headers over the limits below, a request that is not HTTP) as problem+json instead of HTML.
worker_class = "app.server.ProblemWorker"

# The longest request line gunicorn accepts is 8190 bytes, and the longest a documented request
# can need is 6,573 (GET /books with every parameter at its longest, each character of free text
# percent-encoded as a 4-byte UTF-8 character, i.e. 12 bytes):
#   "GET /books?" + q 200 x 12 + author 100 x 12 + genre 50 x 12 + cursor 2048 (URL-safe base64,
#   nothing to escape) + min_price, max_price 2 x 24 x 3 + sort, in_stock, page, per_page at their
#   longest valid value (3 bytes a character) + names, "=", "&" and " HTTP/1.1".
# tests/test_input_limits.py computes this from the OpenAPI document for every operation.
limit_request_line = 8190

# At most 100 header fields of at most 8190 bytes each (gunicorn's defaults, written down): a bearer
# token is under 1 KiB and an Idempotency-Key at most 255 characters.
limit_request_fields = 100
limit_request_field_size = 8190

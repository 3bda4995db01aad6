"""`make serve`: the whole product on loopback, without Docker or `sam local`.

The HTTP API of `template.yaml` is served by the real handlers with API Gateway v2 events;
DynamoDB, Secrets Manager and SQS are moto; queued work is drained in-process so runs finish;
Dicker Data and Halo are the bundled fakes unless `DICKER_DATA_*` / `HALO_*` point elsewhere.
The contract is PRODUCT.md's "Running locally".

One module a part: `app` (`LocalApp`, which wires the rest together), `upstreams` (which Dicker
Data and Halo), `router` and `http_server` (API Gateway), `sqs_poller` and `timer` (the event
sources), `state_file` and `kept_state` (what `make serve` keeps between starts), `cli`.
"""

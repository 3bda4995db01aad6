"""With real credentials configured, no answer and no log line carries one (logs read off the
process's own stdout/stderr, as CloudWatch would receive them)."""

import json

import pytest

from ddhalo_lambda.observability import logger

pytestmark = pytest.mark.integration


def test_no_response_or_log_line_carries_a_secret(api, log_lines, capfd, dicker_data_fake, halo_fake):
    secrets = {
        "dicker_data_access_token": dicker_data_fake.access_token,
        "halo_client_id": halo_fake.client_id,
        "halo_client_secret": halo_fake.client_secret,
    }
    answers = [api.call("PUT", "/settings", secrets)]
    answers.append(api.post("/config/test"))
    answers.append(api.post("/config/test", {"halo_client_secret": "candidate-secret-value"}))
    answers.append(api.post("/config/test", {"dicker_data_access_token": "wrong-token-value"}))
    answers.append(api.get("/settings"))
    answers.append(api.post("/mappings/generate"))
    answers.append(api.get("/mappings"))
    run = api.run("/customers/import")
    answers.append(api.get(f"/runs/{run['run_id']}"))
    sync = api.post("/sync", {})
    answers.append(api.get(f"/runs/{api.wait_run(sync.json()['run_id'])['run_id']}"))
    answers.append(api.get("/runs"))
    halo_fake.expire_tokens()
    dicker_data_fake.expire_keys()
    answers.append(api.post("/config/test"))
    # As if an operator turned on POWERTOOLS_LOGGER_LOG_EVENT: the PUT's body reaches the log.
    logger.info("event", extra={"event": {"body": json.dumps(secrets), "headers": {"authorization": "x"}}})

    leaked = {*secrets.values(), "candidate-secret-value", "wrong-token-value"}
    leaked |= set(dicker_data_fake.keys) | set(halo_fake.tokens)  # access keys and tokens handed out
    assert all(a.status_code < 500 for a in answers)
    for answer in answers:
        for secret in leaked:
            assert secret not in answer.text, f"{answer.request.method} {answer.url} answered a secret"
    logged = log_lines.getvalue()
    assert '"message":"configuration checked"' in logged and '"message":"job done"' in logged
    out, err = capfd.readouterr()
    for secret in leaked:
        assert secret not in logged and secret not in out and secret not in err

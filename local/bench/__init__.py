"""`make bench`: the full sync against the HTTP fakes at several sizes, with latency and a Halo limit.

For each size it seeds Dicker Data with N customers x S subscriptions (10% of them already in Halo
under the same name, mapped by ``POST /mappings/generate``) and runs six syncs in order
(``config.SCENARIOS``), each on the state the one before left:

1. ``first``: ``POST /sync {}`` on a fresh Halo (none ever finished, so it is a verify);
2. ``unchanged``: a plain sync (``{"verify": false}``) with nothing changed;
3. ``changed``: a plain sync after 1% of the subscriptions changed in Dicker Data (quantities,
   some cancelled, some new, some vanished: ``world.change_subscriptions``);
4. ``drifted``: a plain sync after edits made by hand in Halo's records (counts, inactive,
   deleted, moved to another client, tenant links removed: ``world.hand_drift``), which must
   leave them alone;
5. ``verify``: ``{"verify": true}``, which must correct every one of them;
6. ``settled``: a plain sync after it, which must undo nothing.

After each, Halo's records are checked against Dicker Data's (``world.check_halo``). It prints
what each sync cost: Halo and Dicker Data calls (the Halo count against the minimum that sync
kind needs, ``minimum``), wall time against the configured pace, every worker job's duration and
peak memory, and DynamoDB / SQS / Secrets Manager requests. It also times each handler's cold
import and sizes the deployment package. docs/PERFORMANCE.md explains the method and records
the numbers.

Where each piece runs, so the memory and CPU measured are the app's own:

- the fakes of Dicker Data and Halo: a child process (they hold every request they served);
- ``LocalApp`` (moto, the API handlers, the SQS pollers): this process;
- the worker Lambda: ``--workers`` child processes, one per "container". ``Invoker.invoke`` of the
  worker function is wrapped (in the bench only) to hand each SQS event to an idle child, which
  runs the real handler and reports wall and CPU time, peak RSS (Linux ``VmHWM``, reset before each
  job) and the AWS requests it made. The template's ``WorkerConcurrency`` (its ``HALO_RATE_SHARE``)
  sets how many run at once, as the SQS event source's ``MaximumConcurrency`` does in AWS.

Exits non-zero when a hard target is missed: a failed item or run, a sync that did or did not
verify against what was asked, a Halo write on a plain sync with nothing to write (unchanged,
after hand drift, after the verify), or Halo's records differing from Dicker Data's where they
must not (after the first sync, the 1% change, the verify and the sync after it).

The modules: ``__main__`` (the command line), ``config`` (BenchConfig, the scenarios, the targets,
prices, assumptions), ``run`` (one size), ``fakes`` and ``workers`` (the child processes),
``world`` (the changes, the hand drift and the check, run in the fakes' process),
``minimum`` and ``capacity`` (the pure arithmetic), ``results``, ``costs``, ``report``,
``imports`` and ``package`` (cold imports, layer size).
"""

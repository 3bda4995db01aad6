"""`make bench`: the full sync against the HTTP fakes at several sizes, with latency and a Halo limit.

For each size it seeds Dicker Data with N customers x S subscriptions (10% of them already in Halo
under the same name, mapped by ``POST /mappings/generate``), runs ``POST /sync`` from that state,
then again with nothing changed, and prints what each sync cost: Halo and Dicker Data calls (the
Halo count against the minimum the plan needed), wall time against the rate-limit bound, every
worker job's duration and peak memory, and DynamoDB / SQS / Secrets Manager requests. It also
times each handler's cold import and sizes the deployment package. docs/PERFORMANCE.md explains
the method and records the numbers.

Where each piece runs, so the memory and CPU measured are the app's own:

- the fakes of Dicker Data and Halo: a child process (they hold every request they served);
- ``LocalApp`` (moto, the API handlers, the SQS pollers): this process;
- the worker Lambda: ``--workers`` child processes, one per "container". ``Invoker.invoke`` of the
  worker function is wrapped (in the bench only) to hand each SQS event to an idle child, which
  runs the real handler and reports wall and CPU time, peak RSS (Linux ``VmHWM``, reset before each
  job) and the AWS requests it made. The template's ``WorkerConcurrency`` (its ``HALO_RATE_SHARE``)
  sets how many run at once, as the SQS event source's ``MaximumConcurrency`` does in AWS.

Exits non-zero when a hard target is missed: a failed item or run, or any Halo write on the
unchanged re-sync.

The modules: ``__main__`` (the command line), ``config`` (BenchConfig, prices, assumptions),
``run`` (one size), ``fakes`` and ``workers`` (the child processes), ``cheap_moto``, ``minimum``
and ``capacity`` (the pure arithmetic), ``results``, ``costs``, ``report``, ``imports`` and
``package`` (cold imports, layer size).
"""

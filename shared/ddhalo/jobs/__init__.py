"""The work behind every run, as queued jobs: customers, then subscriptions planned once and
applied in chunks, so no invocation nears Lambda's 15 minutes however many customers there are.

| module        | holds                                                                       |
|---------------|-----------------------------------------------------------------------------|
| ``job``       | what a job is (its phase, index and generation) and every key derived from it |
| ``start``     | starting a run's first job, and executing a queued one                      |
| ``executor``  | one job's execution: the Halo lock, its lease, waits, hand-overs            |
| ``phases``    | what each phase does: import customers, plan subscriptions, apply a chunk   |
| ``chain``     | how a job queues the next: the jobs it spawns and its follow-up             |
| ``chunking``  | how the planned writes are cut into apply chunks                            |
"""

"""Runs: what the API and the schedule start, and what their jobs add up to.

| module      | holds                                                                     |
|-------------|---------------------------------------------------------------------------|
| ``runner``  | a run's life: created ``queued``, each job's items recorded once, finished |
| ``halo_lock`` | the one lock that lets a single run write to Halo at a time             |
| ``view``    | what ``GET /runs/{run_id}`` answers, with its progress                    |
| ``metrics`` | what a finished run publishes to CloudWatch                               |
"""

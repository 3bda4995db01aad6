"""Every import is one pipeline: read → plan → apply, a package per entity.

| step    | customers                     | subscriptions                               |
|---------|-------------------------------|---------------------------------------------|
| read    | ``customers.read``            | ``subscriptions.read``                      |
| plan    | ``customers.plan`` (pure)     | ``subscriptions.plan`` (pure), with         |
|         | ``customers.delta`` (shortcut)| ``.fields`` (what a licence holds) and      |
|         |                               | ``.twins`` (a licence Halo holds twice)     |
| apply   | ``customers.apply``           | ``subscriptions.apply``                     |
| wiring  | ``customers.flow``            | ``subscriptions.flow``                      |

``compare`` is how a desired record is compared with what we last wrote and what Halo holds
(pure: the plans use it, and so does the apply step reading a lost write back). ``reconcile`` is
what both apply steps share: batched creates that look for a lost answer before sending again,
patches read back when their answer was lost. ``options`` are each run kind's options, typed.
How the steps are cut into queued jobs is :mod:`ddhalo.jobs`.
"""

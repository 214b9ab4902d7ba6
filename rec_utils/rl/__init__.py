"""Recommendation as sequential decisions: a gymnasium user simulator, bandits and off-policy
evaluation, and online experiments on simulated users (A/B tests, CUPED, interleaving), all
in notebook 10. Import from the submodules: :mod:`~rec_utils.rl.simulator`,
:mod:`~rec_utils.rl.bandits`, :mod:`~rec_utils.rl.ope`, :mod:`~rec_utils.rl.experiments`.
"""

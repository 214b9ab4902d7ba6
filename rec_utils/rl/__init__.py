"""Recommendation as sequential decisions: a gymnasium user simulator, bandits and off-policy
evaluation (notebook 09). Import from the submodules: :mod:`~rec_utils.rl.simulator`,
:mod:`~rec_utils.rl.bandits`, :mod:`~rec_utils.rl.ope`.
"""

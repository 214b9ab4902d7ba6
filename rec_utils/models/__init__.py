"""Keras model builders of the course, each taught step by step in its notebook first.

* :mod:`rec_utils.models.ncf` — GMF, MLP and NeuMF (He et al., WWW 2017), notebook 06;
* :mod:`rec_utils.models.gan` — the toy GAN pieces and CFGAN (Chae et al., CIKM 2018), and
  :mod:`rec_utils.models.bpr` — BPR-MF (Rendle et al., UAI 2009, NumPy), notebook 07;
* :mod:`rec_utils.models.sequential` — GRU4Rec-style and LSTM next-item models and the
  sequence utilities and baselines they are judged against, notebook 08.

Import from the submodules, e.g. ``from rec_utils.models.ncf import build_neumf``; they
import TensorFlow, which ``import rec_utils`` alone never does.
"""

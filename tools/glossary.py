"""The course's bilingual glossary (English ↔ 中文), and the scanner that keeps it honest.

Taught in ``notebooks/13_applications_and_references.ipynb``. Notebooks mark a key term on its
first use as ``term (中文)``, e.g. "collaborative filtering (协同过滤)". This module holds

* :data:`GLOSSARY` — the curated entries (:class:`Term`: English, Chinese, the notebook that
  introduces the term, a one-line definition, and the other English spellings the notebooks
  use for it), sorted by English;
* :func:`find_terms` — the ``English words (中文)`` pairs in a piece of markdown, and
  :func:`scan_notebooks`, the same over the markdown cells of ``notebooks/*.ipynb``;
* :func:`check_mentions` — every pair found must name a glossary entry with the same Chinese,
  in the notebook the entry says introduces it; the problems come back as readable sentences;
* :func:`lookup` — search the glossary by English or Chinese;
* :func:`glossary_markdown` — ``docs/glossary.md``. ``python -m rec_utils.glossary`` rewrites
  it; ``--check`` reports whether it is current and lists any problem in the notebooks.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Term", "Mention", "GLOSSARY", "PROBLEM_KINDS", "find_terms", "scan_notebooks", "resolve", "check_mentions",
           "lookup", "glossary_markdown", "write_glossary"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
GLOSSARY_FILE = ROOT / "docs" / "glossary.md"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes
    ----------
    english, chinese : str
        The term in both languages, as the course writes it on first use.
    notebook : str
        Two digits: the notebook that introduces the term (its first ``term (中文)`` mention).
    definition : str
        One line, in English.
    aliases : tuple of str
        Other English forms the notebooks use for the same term (abbreviations, short forms).
    """

    english: str
    chinese: str
    notebook: str
    definition: str
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self):
        for name in ("english", "chinese", "definition"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Term.{name} must be a non-empty string, got {value!r}")
        if not _CJK.search(self.chinese):
            raise ValueError(f"Term.chinese must contain Chinese characters, got {self.chinese!r} for {self.english!r}")
        if not (isinstance(self.notebook, str) and re.fullmatch(r"\d\d", self.notebook)):
            raise ValueError(f"Term.notebook must be two digits such as '05', got {self.notebook!r}")
        if not isinstance(self.aliases, tuple) or not all(isinstance(a, str) and a for a in self.aliases):
            raise ValueError(f"Term.aliases must be a tuple of non-empty strings, got {self.aliases!r}")

    def names(self) -> tuple[str, ...]:
        """The English term and its aliases."""
        return (self.english, *self.aliases)


@dataclass(frozen=True)
class Mention:
    """A ``words (中文)`` pair found in markdown.

    ``phrase`` is the English just before the parenthesis (the bold span, or the clause's
    last words), ``inner`` the English parts written inside it (e.g. ``PCA`` in
    ``(PCA, 主成分分析)``), ``before`` the cell's text up to the pair (for context and for
    terms named a few words earlier).
    """

    notebook: str
    chinese: str
    phrase: str
    inner: tuple[str, ...] = ()
    before: str = ""

    def show(self) -> str:
        """The pair as written, for messages: ``'the cold-start (冷启动)'``."""
        return f"'{self.phrase.strip()} ({self.chinese})'"


# --------------------------------------------------------------------------- the glossary

GLOSSARY: tuple[Term, ...] = (
    Term("ablation study", "消融实验", "07",
         "Removing one component at a time to measure what each contributes.",
         ("ablation",)),
    Term("accuracy", "准确率", "05",
         "The share of predictions that are correct; misleading when one class dominates."),
    Term("action", "动作", "09",
         "What the agent does in a state: here, the item recommended."),
    Term("action-value function", "动作价值函数", "09",
         "Q(s, a): the expected return of taking action a in state s and following the policy afterwards.",
         ("Q-function",)),
    Term("activation function", "激活函数", "06",
         "The non-linear function a layer applies to its weighted sum, e.g. ReLU or the sigmoid."),
    Term("all-reduce", "全归约", "11",
         "A collective operation that sums (or averages) the replicas' gradients and gives every replica the "
         "result."),
    Term("alternating least squares", "交替最小二乘", "05",
         "Fits matrix factorisation by solving for user factors with item factors fixed, then the reverse, in "
         "turns.",
         ("ALS",)),
    Term("anomaly", "异常值", "02",
         "A value outside what the data can hold, e.g. a rating of 6 or a timestamp in the future.",
         ("outlier",)),
    Term("approximate nearest neighbour search", "近似最近邻", "11",
         "Finding most of the nearest vectors much faster than exact search, e.g. with an IVF index or HNSW "
         "graph.",
         ("approximate nearest-neighbour", "ANN")),
    Term("autoencoder", "自编码器", "04",
         "A network trained to reconstruct its input through a bottleneck; a user's row in, scores for every "
         "item out."),
    Term("automatic differentiation", "自动微分", "06",
         "Computing exact gradients of a program by the chain rule, as tf.GradientTape does.",
         ("differentiates it automatically",)),
    Term("backpropagation", "反向传播", "06",
         "The chain rule applied layer by layer from the loss back to every weight, giving all gradients in "
         "one pass."),
    Term("backpropagation through time", "随时间反向传播", "08",
         "Backpropagation through an RNN unrolled over the time steps of a sequence.",
         ("BPTT",)),
    Term("bandwidth", "带宽", "11",
         "The amount of data a link can move per second."),
    Term("baseline", "基线", "00",
         "A simple model (popularity, item-kNN, EASE) that every new model must beat on the same split and "
         "metric."),
    Term("batch precomputation", "批量预计算", "11",
         "Computing every user's recommendations offline (e.g. nightly) and serving them from a key-value "
         "store."),
    Term("Bayesian personalised ranking", "贝叶斯个性化排序", "07",
         "BPR (Rendle et al., UAI 2009): a pairwise loss that ranks each observed item above a sampled "
         "unobserved one.",
         ("BPR",)),
    Term("Bayesian shrinkage", "贝叶斯收缩", "03",
         "Pulling a mean estimated from few observations towards the global mean, in proportion to how few "
         "there are."),
    Term("bias", "偏置", "02",
         "A learned offset: in a network, added to a layer's weighted sum; in rating models, how much a user "
         "or item sits above the mean.",
         ("bias vector",)),
    Term("binary cross-entropy", "二元交叉熵", "06",
         "The loss −[y log p + (1 − y) log(1 − p)] for yes/no labels."),
    Term("boredom", "厌倦", "09",
         "A user's falling interest after seeing similar items repeatedly (fatigue).",
         ("fatigue",)),
    Term("bot-like user", "机器人用户", "02",
         "An account whose activity (volume, speed, uniform ratings) looks automated rather than human."),
    Term("candidate generation", "召回", "11",
         "The first stage of a multi-stage recommender: retrieve a few hundred plausible items out of "
         "millions, cheaply.",
         ("retriever", "retrieval")),
    Term("catalogue coverage", "目录覆盖率", "04",
         "The share of all items recommended to at least one user.",
         ("coverage",)),
    Term("causal mask", "因果掩码", "10",
         "An attention mask that lets position t see only positions ≤ t, so a model cannot read the future."),
    Term("chief", "主节点", "11",
         "In multi-worker training, worker 0, which also writes checkpoints and results."),
    Term("class imbalance", "类别不平衡", "05",
         "One label far more frequent than the other, so accuracy rewards always predicting it.",
         ("classes are unbalanced",)),
    Term("classification", "分类", "05",
         "Predicting a label, e.g. whether a user will like a movie."),
    Term("click-through rate", "点击率", "09",
         "CTR: the share of recommendations that are clicked (here: liked).",
         ("like rate", "CTR")),
    Term("client", "客户端", "12",
         "A device or data holder in federated learning."),
    Term("clipping", "裁剪", "12",
         "Scaling a gradient down to a maximum norm."),
    Term("cluster-based recommendation", "基于聚类的推荐", "04",
         "Recommending to a user what is popular in the user's cluster (segment)."),
    Term("clustering", "聚类", "04",
         "Grouping similar objects (users, items) without labels."),
    Term("cold start", "冷启动", "01",
         "Recommending to a user or an item with no history yet."),
    Term("collaborative filtering", "协同过滤", "00",
         "Predicting a user's taste from the interactions of other users: people who agreed before agree "
         "again."),
    Term("compute", "计算量", "12",
         "The processing a model needs to train or to answer a request (time, operations)."),
    Term("confidence interval", "置信区间", "09",
         "A range that covers the true value with a stated probability, e.g. 95%."),
    Term("content features", "内容特征", "03",
         "Features describing what an item is (genres, title words), usable before anyone has rated it."),
    Term("context features", "上下文特征", "03",
         "Features of the moment of an interaction, e.g. hour of day and day of week."),
    Term("contextual bandit", "上下文老虎机", "09",
         "A bandit whose reward depends on observed features of the user and item (LinUCB)."),
    Term("cosine similarity", "余弦相似度", "02",
         "The cosine of the angle between two vectors: their dot product divided by both lengths.",
         ("cosine",)),
    Term("cross features", "交叉特征", "03",
         "Features combining two others, e.g. a user's genre affinity times the item's genre."),
    Term("cross-entropy", "交叉熵", "08",
         "The loss −log p(correct class) of a softmax over many classes, e.g. over all items."),
    Term("cross-validation", "交叉验证", "05",
         "Training and testing on each of k folds in turn and averaging, to measure a method's variance too."),
    Term("data cleaning", "数据清洗", "02",
         "Finding and fixing missing, duplicate, implausible and bot-generated rows before modelling."),
    Term("data drift", "数据漂移", "11",
         "A change in the distribution of incoming data away from the training data, which silently degrades a"
         " model."),
    Term("data leakage", "数据泄漏", "02",
         "Information from the test set or the future reaching training, which inflates offline scores.",
         ("target leakage",)),
    Term("data parallelism", "数据并行", "11",
         "Training copies of the model on different slices of each batch and averaging their gradients."),
    Term("data splitting", "数据划分", "02",
         "Dividing interactions into training, validation and test sets (random, per user, temporal, leave-"
         "last-out).",
         ("training and test sets",)),
    Term("DBSCAN", "基于密度的聚类", "04",
         "Density-based clustering: dense regions become clusters, isolated points become noise; no number of "
         "clusters to choose."),
    Term("decision tree", "决策树", "05",
         "A model that splits the data on one feature at a time and predicts from the leaf an example falls "
         "into."),
    Term("deep Q-network", "深度Q网络", "09",
         "DQN (Mnih et al., Nature 2015): Q-learning with a neural network, experience replay and a target "
         "network.",
         ("DQN",)),
    Term("demographics", "人口统计特征", "01",
         "Age, gender, occupation and location of users."),
    Term("denoising autoencoder", "去噪自编码器", "04",
         "An autoencoder trained to reconstruct its input from a corrupted copy (e.g. with items dropped).",
         ("Mult-DAE",)),
    Term("differential privacy", "差分隐私", "12",
         "A guarantee that adding or removing one example changes the distribution of outcomes by at most a "
         "factor e^ε (plus δ).",
         ("DP",)),
    Term("dimensionality reduction", "降维", "02",
         "Representing data with fewer dimensions that keep most of its structure, e.g. PCA or truncated SVD."),
    Term("discount factor", "折扣因子", "09",
         "γ in [0, 1): how much a reward one step later counts compared with one now."),
    Term("discriminator", "判别器", "07",
         "The network of a GAN that tells real samples from generated ones."),
    Term("doubly robust", "双重稳健", "09",
         "An off-policy estimator that combines a reward model with IPS; unbiased if either is right.",
         ("DR",)),
    Term("dropout", "随机失活", "08",
         "Zeroing a random share of units during training, a regulariser against overfitting."),
    Term("duplicate", "重复数据", "02",
         "The same user–item interaction recorded more than once."),
    Term("early stopping", "早停", "05",
         "Stopping training when the validation metric stops improving, and keeping the best epoch's weights."),
    Term("embedding", "嵌入", "00",
         "A learned dense vector standing for a user, an item or a token."),
    Term("embedding layer", "嵌入层", "08",
         "A lookup table from token ids to embeddings, trained with the network."),
    Term("embedding sharding", "嵌入分片", "11",
         "Splitting a large embedding table across machines."),
    Term("experience replay", "经验回放", "09",
         "Storing past transitions and training on random minibatches of them.",
         ("experience replay buffer",)),
    Term("explained variance", "解释方差", "02",
         "The share of the data's variance that a set of principal components keeps."),
    Term("explanation", "解释", "12",
         "A reason shown with a recommendation: neighbours, features or attention weights."),
    Term("exploding gradient", "梯度爆炸", "08",
         "Gradients that grow exponentially through time steps or layers, making training diverge."),
    Term("exploitation", "利用", "09",
         "Choosing the action currently believed best."),
    Term("exploration", "探索", "09",
         "Trying actions whose value is uncertain to learn about them."),
    Term("F1", "F1 分数", "05",
         "The harmonic mean of precision and recall."),
    Term("feature attribution", "特征归因", "12",
         "Dividing a prediction among the input features."),
    Term("feature engineering", "特征工程", "03",
         "Turning raw data into model inputs: aggregates, encodings, crosses, time-aware statistics."),
    Term("federated learning", "联邦学习", "12",
         "Training where data stay on users' devices and only model updates are sent and averaged (FedAvg)."),
    Term("feed-forward network", "前馈网络", "10",
         "The position-wise two-layer MLP inside each Transformer block."),
    Term("first-order Markov chain", "一阶马尔可夫链", "08",
         "A model in which the next item depends only on the current one; estimated from transition counts.",
         ("Markov chain",)),
    Term("fold-in", "折叠更新", "11",
         "Updating one user's vector from new interactions with the item vectors held fixed, without "
         "retraining."),
    Term("forward pass", "前向传播", "06",
         "Computing a network's output from its input, layer after layer."),
    Term("freshness", "时效性", "13",
         "How recent an item or a signal is; in news an item's value decays within hours."),
    Term("gated recurrent unit", "门控循环单元", "08",
         "An RNN cell whose update and reset gates decide how much of the hidden state to keep; the cell of "
         "GRU4Rec.",
         ("GRU",)),
    Term("Gaussian mixture", "高斯混合", "07",
         "A density that is a weighted sum of Gaussian components.",
         ("mixture of Gaussians",)),
    Term("generative adversarial network", "生成对抗网络", "07",
         "A generator and a discriminator trained against each other until the generator's samples pass for "
         "real data.",
         ("GAN",)),
    Term("generative recommender", "生成式推荐", "10",
         "A model that generates the next action (or item ids) from the whole interaction sequence, e.g. HSTU.",
         ("generative recommendation",)),
    Term("generator", "生成器", "07",
         "The network of a GAN that turns random noise (and a condition) into samples."),
    Term("Gini coefficient", "基尼系数", "12",
         "Inequality of exposure across items, from 0 (equal) to 1 (all on one item)."),
    Term("gradient", "梯度", "06",
         "The vector of partial derivatives of the loss with respect to the weights."),
    Term("gradient boosted trees", "梯度提升树", "03",
         "An ensemble of decision trees, each fitted to the errors of the ones before it.",
         ("histogram gradient-boosted tree ensemble",)),
    Term("gradient check", "梯度检验", "06",
         "Comparing backpropagated gradients with finite differences to catch mistakes."),
    Term("half-life", "半衰期", "13",
         "The age at which an interaction's weight has fallen to one half under exponential decay."),
    Term("hidden state", "隐藏状态", "08",
         "The vector an RNN carries from one time step to the next: its memory of the sequence so far."),
    Term("hit rate", "命中率", "06",
         "HR@k: the share of held-out items that appear in the top k.",
         ("hit ratio", "HR@10", "HR@k")),
    Term("hybrid model", "混合模型", "12",
         "A model that combines collaborative signals with content or side information."),
    Term("hyper-parameter", "超参数", "05",
         "A setting chosen before training (depth, learning rate, l2) and tuned on a validation split."),
    Term("implicit feedback", "隐式反馈", "05",
         "Interactions that reveal interest without a rating (clicks, views, purchases); a missing entry is "
         "not a dislike."),
    Term("integrated gradients", "积分梯度", "12",
         "A feature attribution that integrates the gradient along a path from a baseline input to the actual "
         "one."),
    Term("interpretability", "可解释性", "12",
         "How well people can understand why a model made a recommendation."),
    Term("inverse propensity scoring", "逆倾向评分", "09",
         "IPS: reweighting logged rewards by π(a | x) / μ(a | x) to estimate a target policy's value.",
         ("IPS",)),
    Term("inverted file index", "倒排索引", "11",
         "An ANN index that clusters the vectors (k-means) and searches only the lists of the closest centres.",
         ("IVF index", "IVF")),
    Term("item cold-start problem", "物品冷启动问题", "10",
         "Recommending items that have no interactions yet, from their content alone."),
    Term("item features", "物品特征", "03",
         "Aggregates describing an item, e.g. its popularity and its (shrunk) mean rating."),
    Term("k-means", "K均值聚类", "04",
         "Clustering into k groups by alternating between assigning points to the nearest centre and moving "
         "the centres."),
    Term("k-nearest neighbours", "k近邻", "02",
         "Predicting from the k most similar users or items.",
         ("kNN", "k-nearest-neighbours")),
    Term("key", "键", "10",
         "In attention, the projection of a position that queries are matched against."),
    Term("knowledge tracing", "知识追踪", "13",
         "Estimating from a learner's answers which skills the learner has mastered, to choose the next "
         "exercise."),
    Term("Kullback–Leibler divergence", "KL 散度", "11",
         "A measure of how one probability distribution differs from another; not symmetric.",
         ("KL divergence",)),
    Term("L2 regularisation", "L2 正则化", "12",
         "A penalty proportional to the sum of squared weights (weight decay)."),
    Term("latency", "延迟", "11",
         "The time to answer one request; its tail (p99) matters most to users."),
    Term("latent semantic analysis", "潜在语义分析", "10",
         "Truncated SVD of a TF-IDF matrix: dense text vectors from word co-occurrence.",
         ("LSA",)),
    Term("layer", "层", "06",
         "One stage of a network: a weight matrix, a bias and an activation."),
    Term("leaderboard", "排行榜", "05",
         "One table of models scored on the same split, protocol and metrics."),
    Term("learned positional embedding", "可学习位置嵌入", "10",
         "A trained vector per position, added to the item embedding so that attention knows the order."),
    Term("leave-last-out", "留一法", "02",
         "Each user's last interaction (in time) is held out as the test item."),
    Term("linear support vector machine", "支持向量机", "05",
         "A linear classifier trained to separate the classes with the widest margin.",
         ("support vector machine", "SVM")),
    Term("LLM-based recommendation", "基于大语言模型的推荐", "10",
         "Recommendation with a large language model that reads items and histories as text (P5, TALLRec)."),
    Term("locality-sensitive hashing", "局部敏感哈希", "11",
         "Hashing vectors so that similar ones collide often, e.g. by the signs of their products with random "
         "vectors.",
         ("LSH",)),
    Term("log loss", "对数损失", "03",
         "The mean negative log-probability given to the true labels; measures calibration, lower is better."),
    Term("logistic regression", "逻辑回归", "03",
         "A linear model passed through the sigmoid, giving a probability."),
    Term("long short-term memory", "长短期记忆网络", "08",
         "An RNN cell with input, forget and output gates and a separate cell state.",
         ("LSTM",)),
    Term("long tail", "长尾", "01",
         "The many items with few interactions each, beyond the popular head."),
    Term("long-tail share", "长尾占比", "12",
         "The share of recommendations that go to long-tail items."),
    Term("Lorenz curve", "洛伦兹曲线", "12",
         "Cumulative share of exposure against the cumulative share of items, sorted from least to most "
         "exposed."),
    Term("loss function", "损失函数", "06",
         "The quantity training minimises, e.g. cross-entropy or squared error.",
         ("loss",)),
    Term("Markov decision process", "马尔可夫决策过程", "09",
         "States, actions, transition probabilities and rewards: the formal setting of reinforcement learning.",
         ("MDP",)),
    Term("masking", "掩码", "07",
         "Hiding positions from a layer or a loss: padding in a sequence, or items hidden from a model's "
         "input.",
         ("mask",)),
    Term("matrix factorisation", "矩阵分解", "00",
         "Modelling the user × item matrix as the product of user and item factor matrices."),
    Term("mean absolute error", "平均绝对误差", "05",
         "MAE: the mean of |prediction − rating|.",
         ("MAE",)),
    Term("mean average precision", "平均精度均值", "05",
         "MAP@k: precision at each hit's rank, averaged over hits and then over users.",
         ("MAP@10", "MAP@k", "MAP")),
    Term("mean squared error", "均方误差", "05",
         "MSE: the mean of (prediction − rating)².",
         ("MSE",)),
    Term("min-max scaling", "最小-最大归一化", "02",
         "Rescaling values to [0, 1] by (x − min) / (max − min)."),
    Term("minimax game", "极小极大博弈", "07",
         "The GAN objective: the discriminator maximises what the generator minimises."),
    Term("missing values", "缺失值", "02",
         "Fields with no value (NaN) in a data set."),
    Term("mode", "峰", "07",
         "A peak of a probability density.",
         ("peak",)),
    Term("mode collapse", "模式崩溃", "07",
         "A generator producing only a few modes of the data, or one sample for every input."),
    Term("mode coverage", "模式覆盖", "07",
         "How many of the true distribution's modes a generator produces samples near."),
    Term("model blending", "模型融合", "05",
         "A weighted combination of several models' predictions, weights fitted on validation data.",
         ("blend",)),
    Term("momentum", "动量", "06",
         "An optimiser term that keeps a running average of past gradients to smooth and speed up descent."),
    Term("Monte Carlo", "蒙特卡洛", "09",
         "Estimating an expectation by averaging random samples, e.g. the return over simulated sessions.",
         ("Monte-Carlo",)),
    Term("multi-armed bandit", "多臂老虎机", "09",
         "Repeatedly choosing one of several actions with unknown reward rates, balancing exploration and "
         "exploitation.",
         ("bandit",)),
    Term("multi-head attention", "多头注意力", "10",
         "Several attention operations in parallel on different projections, their outputs concatenated."),
    Term("multi-stage recommender", "多阶段推荐", "11",
         "A pipeline of a cheap retrieval stage followed by one or more expensive ranking stages.",
         ("work in stages", "two-stage recommender")),
    Term("multilayer perceptron", "多层感知机", "05",
         "A feed-forward network of dense layers with non-linear activations.",
         ("MLP",)),
    Term("multimodal", "多模态", "12",
         "Using several kinds of data together, such as text, images and interactions."),
    Term("myopic", "短视", "09",
         "Maximising only the immediate reward, ignoring the effect on later rewards."),
    Term("negative sampling", "负采样", "06",
         "Training on observed interactions plus randomly drawn unobserved items treated as negatives."),
    Term("neural collaborative filtering", "神经协同过滤", "06",
         "NCF (He et al., WWW 2017): user and item embeddings combined by GMF and an MLP (NeuMF).",
         ("NCF",)),
    Term("neural network", "神经网络", "05",
         "A chain of layers, each a linear map followed by a non-linear activation, trained by gradient "
         "descent."),
    Term("next-item prediction", "下一物品预测", "08",
         "Ranking the item a user will interact with next, given the user's history in order."),
    Term("noise", "噪声", "12",
         "Random values added on purpose, e.g. Gaussian noise on clipped gradients in DP-SGD."),
    Term("noise point", "噪声点", "04",
         "In DBSCAN, a point in no dense region, labelled −1."),
    Term("normalised discounted cumulative gain", "归一化折损累计增益", "05",
         "NDCG@k: gains of the hits discounted by 1/log2(rank + 1), divided by the best achievable.",
         ("NDCG@10", "NDCG@k", "NDCG")),
    Term("novelty", "新颖性", "04",
         "How unpopular the recommended items are: the mean −log2 of their share of users."),
    Term("number of parameters", "参数量", "12",
         "How many numbers a model stores.",
         ("parameters",)),
    Term("off-policy evaluation", "离策略评估", "09",
         "Estimating a new policy's value from logs collected by another policy."),
    Term("one-hot encoding", "独热编码", "03",
         "A categorical value as a vector with a single 1 at its category's position.",
         ("one-hot", "one-hot input")),
    Term("online serving", "在线服务", "11",
         "Scoring each request when it arrives, within a latency budget."),
    Term("overfitting", "过拟合", "05",
         "Fitting the training data's noise, so that validation error rises while training error falls."),
    Term("padding", "填充", "08",
         "Filling short sequences with a reserved token (0) so that a batch has one length."),
    Term("parameter server", "参数服务器", "11",
         "Machines that hold model parameters (e.g. embedding shards) and serve them to training workers."),
    Term("partial masking", "部分掩码", "07",
         "CFGAN's negative sampling that leaves a sample of unobserved items visible to the discriminator, "
         "where real vectors are 0.",
         ("PM",)),
    Term("per-example gradient", "逐样本梯度", "12",
         "The gradient of one training example's loss, clipped separately in DP-SGD."),
    Term("per-user mean-centring", "用户均值中心化", "02",
         "Subtracting each user's mean rating, so that generous and strict raters become comparable."),
    Term("permutation importance", "置换重要性", "03",
         "How much a metric drops when one feature's values are shuffled."),
    Term("pipeline", "流水线", "03",
         "A scikit-learn object chaining preprocessing and a model, fitted on training data only."),
    Term("point-in-time features", "时点正确的特征", "03",
         "Features computed only from data before the moment of the example, so that none sees the future."),
    Term("policy", "策略", "09",
         "A rule (or distribution) that chooses an action in each state."),
    Term("policy gradient", "策略梯度", "09",
         "Training a policy by the gradient of its expected return (REINFORCE)."),
    Term("popularity", "流行度", "08",
         "How many interactions an item has; recommending the most popular items is the first baseline."),
    Term("popularity bias", "流行度偏差", "12",
         "Recommending popular items more often than their share of relevance warrants."),
    Term("population stability index", "群体稳定性指数", "11",
         "PSI: a divergence between two binned distributions, used to monitor drift.",
         ("PSI",)),
    Term("pre-trained sentence encoder", "预训练句向量编码器", "10",
         "A language model trained on large text corpora that maps a sentence to a vector."),
    Term("pre-training", "预训练", "06",
         "Initialising a model from the weights of models trained before (NeuMF from GMF and MLP)."),
    Term("precision", "精确率", "05",
         "The share of predicted positives (or recommended items) that are relevant."),
    Term("principal component analysis", "主成分分析", "02",
         "Projecting centred data onto the directions of largest variance.",
         ("PCA",)),
    Term("prompt", "提示", "10",
         "The text given to a language model to condition its output."),
    Term("propensity", "倾向分", "09",
         "The probability with which the logging policy chose the logged action."),
    Term("Q-learning", "Q学习", "09",
         "Learning the action-value function from the Bellman update Q(s, a) ← r + γ max Q(s′, a′)."),
    Term("query", "查询", "10",
         "In attention, the projection of a position that is matched against the keys: what it looks for."),
    Term("quintile", "五分位", "03",
         "One of five equal-sized groups of a sorted variable."),
    Term("random forest", "随机森林", "05",
         "An average of decision trees, each grown on a bootstrap sample and random feature subsets."),
    Term("ranking", "排序", "05",
         "Ordering items by predicted relevance for a user; judged by top-k metrics. A ranker is the model (or"
         " stage) that does it.",
         ("ranker",)),
    Term("ranking metrics", "排序指标", "05",
         "Metrics of a top-k list: precision@k, recall@k, MAP@k, NDCG@k, HR@k."),
    Term("rarely rated items", "冷门物品", "12",
         "Items with few interactions, on which collaborative models know little."),
    Term("re-ranking", "重排序", "12",
         "Reordering a model's list after scoring, e.g. with a popularity penalty."),
    Term("recall", "召回率", "05",
         "The share of relevant items (or positives) that are found."),
    Term("recency weighting", "时间衰减加权", "13",
         "Weighting each interaction by its age, e.g. 0.5^(age / half-life), so recent ones count more.",
         ("recency-weighted",)),
    Term("recommender system", "推荐系统", "00",
         "A system that picks, from a large catalogue, the few items a person is most likely to want."),
    Term("rectified linear unit", "修正线性单元", "06",
         "ReLU: max(0, x), the most common activation.",
         ("ReLU",)),
    Term("recurrent neural network", "循环神经网络", "08",
         "A network applied step by step along a sequence, carrying a hidden state.",
         ("RNN",)),
    Term("regression", "回归", "05",
         "Predicting a number, e.g. a rating."),
    Term("regret", "遗憾", "09",
         "The reward lost compared with always choosing the best action."),
    Term("regularisation", "正则化", "05",
         "A penalty on model size (e.g. l2 on weights or biases) that trades training fit for generalisation."),
    Term("reinforcement learning", "强化学习", "09",
         "Learning a policy that maximises the reward accumulated over time from interaction.",
         ("RL",)),
    Term("replica", "副本", "11",
         "One copy of the model in data-parallel training, each working on its share of the batch."),
    Term("return", "回报", "09",
         "The (discounted) sum of rewards over a session."),
    Term("reward", "奖励", "09",
         "The immediate feedback to an action, e.g. a click or a like."),
    Term("ridge regression", "岭回归", "10",
         "Least squares with an L2 penalty on the coefficients."),
    Term("ROC-AUC", "ROC 曲线下面积", "03",
         "The area under the ROC curve: the chance that a random positive is scored above a random negative."),
    Term("root mean squared error", "均方根误差", "02",
         "RMSE: the square root of the mean squared rating error.",
         ("RMSE",)),
    Term("round", "轮", "12",
         "One cycle of federated learning: clients train locally, the server averages their updates."),
    Term("Rényi differential privacy", "Rényi 差分隐私", "12",
         "A variant of differential privacy based on Rényi divergence that makes composition over many steps "
         "tight.",
         ("RDP",)),
    Term("saturation", "饱和", "07",
         "A loss whose gradient vanishes where learning is most needed, like the minimax GAN loss early in "
         "training.",
         ("saturate",)),
    Term("scaled dot-product attention", "缩放点积注意力", "10",
         "softmax(Q Kᵀ / √d_k + M) V: attention weights from query–key dot products, scaled and masked."),
    Term("scaling law", "缩放定律", "10",
         "A power law relating a model's quality to its size, data or training compute."),
    Term("self-attention", "自注意力", "10",
         "Each position of a sequence builds its output as a weighted mix of all positions, the weights "
         "computed from the sequence itself."),
    Term("sensitivity", "敏感度", "12",
         "The most one example can change a computation's result; it sets how much noise privacy needs."),
    Term("sequence-to-sequence training", "序列到序列训练", "10",
         "Training on the next item at every position of a history at once, not only at the last one."),
    Term("sequential decision problem", "序贯决策问题", "09",
         "A problem in which each decision changes the situation of the next, so decisions must be planned "
         "together."),
    Term("sequential recommendation", "序列推荐", "08",
         "Recommendation that uses the order of a user's interactions."),
    Term("session", "会话", "01",
         "A burst of interactions with short gaps, separated from the next burst by a long one."),
    Term("session-based recommendation", "基于会话的推荐", "13",
         "Predicting the next item from the current session alone, often for anonymous users."),
    Term("side information", "辅助信息", "12",
         "Data about items or users beyond interactions: genres, text, images."),
    Term("silhouette coefficient", "轮廓系数", "04",
         "How much closer a point is to its own cluster than to the next one, from −1 to 1."),
    Term("singular value decomposition", "奇异值分解", "02",
         "The factorisation X = U Σ Vᵀ; keeping the largest singular values gives the best low-rank "
         "approximation.",
         ("SVD",)),
    Term("sliced Wasserstein distance", "切片 Wasserstein 距离", "07",
         "The average over random 1-D projections of the Wasserstein distance between two sample sets."),
    Term("social recommendation", "社交推荐", "13",
         "Recommendation that also uses the social graph: friends' and followees' behaviour and trust."),
    Term("softmax", "归一化指数函数", "08",
         "exp(z_i) / Σ_j exp(z_j): turns scores into a probability distribution, e.g. over all items."),
    Term("sparsity", "稀疏性", "01",
         "The share of the user × item matrix that is empty; on MovieLens most of it."),
    Term("stale model", "过时", "11",
         "A model that has not seen the interactions since it was last trained.",
         ("stale",)),
    Term("standard error", "标准误差", "06",
         "The standard deviation of an estimate such as a mean metric over users; gives its uncertainty."),
    Term("state", "状态", "09",
         "What the agent knows when it acts: here, the user and the session so far."),
    Term("stochastic gradient descent", "随机梯度下降", "05",
         "Updating the weights with the gradient of a small random batch at a time.",
         ("SGD",)),
    Term("subsampled Gaussian mechanism", "子采样高斯机制", "12",
         "Gaussian noise added to a sum over a random subsample; the privacy mechanism of DP-SGD."),
    Term("supervised learning", "监督学习", "05",
         "Learning a mapping from inputs to known labels or targets."),
    Term("t-SNE", "t-分布随机邻域嵌入", "04",
         "A non-linear 2-D map that keeps each point's nearest neighbours close."),
    Term("tail latency", "尾延迟", "11",
         "A high percentile of latency (p99): the slow requests users remember.",
         ("p99",)),
    Term("target network", "目标网络", "09",
         "A slowly updated copy of the Q-network used to compute learning targets."),
    Term("temporal split", "按时间划分", "02",
         "Training on interactions before a moment and testing on those after it, as a deployed system meets "
         "data.",
         ("temporal",)),
    Term("test set", "测试集", "05",
         "Data held out until the end and used once to report a result."),
    Term("TF-IDF", "词频-逆文档频率", "03",
         "Term frequency times inverse document frequency: weights words that are frequent in a text and rare "
         "overall."),
    Term("Thompson sampling", "汤普森采样", "09",
         "Choosing each action with the probability that it is the best, by sampling from the posterior of its"
         " reward."),
    Term("throughput", "吞吐量", "11",
         "Requests answered per second."),
    Term("token", "词元", "08",
         "A unit of a sequence given to a network: here an item id mapped to an integer."),
    Term("Transformer", "Transformer 模型", "10",
         "A network of self-attention and feed-forward blocks with residual connections and layer "
         "normalisation (Vaswani et al., 2017)."),
    Term("truncated singular value decomposition", "截断奇异值分解", "04",
         "The SVD keeping only the k largest singular values, a rank-k approximation.",
         ("truncated SVD",)),
    Term("two-tower model", "双塔模型", "11",
         "A user tower and an item tower that meet only in a dot product, so item vectors can be indexed for "
         "fast retrieval."),
    Term("unsupervised learning", "无监督学习", "04",
         "Finding structure (clusters, embeddings) in data without labels."),
    Term("upper confidence bound", "置信上界", "09",
         "UCB: choosing the action with the highest optimistic estimate, mean plus an uncertainty bonus.",
         ("UCB",)),
    Term("user features", "用户特征", "03",
         "Aggregates describing a user, e.g. activity, recency, mean rating and genre taste."),
    Term("user simulator", "用户模拟器", "09",
         "A model of users' responses used to train and evaluate policies offline."),
    Term("user-side fairness", "用户侧公平性", "12",
         "Similar recommendation quality across groups of users."),
    Term("validation item", "验证物品", "08",
         "The second-to-last item of each user's history, held out to tune and stop training."),
    Term("validation split", "验证集", "05",
         "Data carved from the training set to tune hyper-parameters, never the test set.",
         ("validation set",)),
    Term("value", "值", "10",
         "In attention, the projection of a position that is averaged into the output."),
    Term("vanishing gradient", "梯度消失", "08",
         "Gradients that shrink exponentially through time steps or layers, so early inputs stop learning."),
    Term("watch time", "观看时长", "13",
         "How long a video is watched; YouTube's ranking model is trained to predict it rather than clicks."),
    Term("weight", "权重", "06",
         "A learned parameter of a layer, an entry of its weight matrix.",
         ("weight matrix",)),
    Term("z-score standardisation", "标准化", "02",
         "Rescaling values to mean 0 and standard deviation 1 by (x − mean) / std."),
    Term("zero reconstruction", "零重构", "07",
         "CFGAN's regulariser that pushes the generator's output for sampled unobserved items towards 0.",
         ("ZR",)),
)


# --------------------------------------------------------------------------- scanning

# where a clause ends; an en dash inside a name (Kullback–Leibler) does not end it
_CLAUSE_END = re.compile(r"[.,;:!?()（）\[\]|—\"“”\n]|`|\s–\s")
_PHRASE_WORDS = 6


def _parentheses(text: str) -> list[tuple[int, int]]:
    """(start, end) of every balanced parenthesis, nested ones included, in order of opening."""
    spans, opened = [], []
    for position, char in enumerate(text):
        if char in "(（":
            opened.append(position)
        elif char in ")）" and opened:
            spans.append((opened.pop(), position))
    return sorted(spans)


def _parts(inside: str) -> tuple[str | None, tuple[str, ...]]:
    """Split the text in parentheses into its Chinese term and its English parts."""
    head = re.split(r"[:：;；]", inside, maxsplit=1)[0]
    parts = [p.strip(" *_") for p in re.split(r"[,，、]", head) if p.strip(" *_")]
    chinese = next((p for p in parts if _CJK.search(p)), None)
    inner = tuple(p for p in parts if not _CJK.search(p) and len(p.split()) <= _PHRASE_WORDS)
    return chinese, inner


def _phrase(before: str) -> str:
    """The English a parenthesis refers to: the bold span it closes or sits in, else the clause's end."""
    stripped = before.rstrip()
    if before.count("**") % 2 == 1:  # inside **bold (中文)**
        return before[before.rfind("**") + 2:].strip()
    if stripped.endswith("**"):  # **bold** (中文)
        body = stripped[:-2]
        return body[body.rfind("**") + 2:].strip()
    clause = _CLAUSE_END.split(stripped.replace("**", ""))[-1]
    return " ".join(clause.split()[-_PHRASE_WORDS:])


def find_terms(markdown: str, notebook: str = "") -> list[Mention]:
    """The ``English words (中文)`` pairs in a markdown text, in order.

    A parenthesis counts when it holds Chinese characters and English words precede it;
    book titles in 《》, parentheses without English before them and inline code do not count.

    Parameters
    ----------
    markdown : str
        Markdown text, e.g. one notebook cell.
    notebook : str
        Stored in each :class:`Mention` (the two-digit notebook number).

    Examples
    --------
    >>> [(m.phrase, m.chinese) for m in find_terms("Its **sparsity** (稀疏性) is the difficulty of "
    ...                                             "collaborative filtering (协同过滤).")]
    [('sparsity', '稀疏性'), ('is the difficulty of collaborative filtering', '协同过滤')]
    >>> find_terms("Principal component analysis (PCA, 主成分分析) keeps variance.")[0].inner
    ('PCA',)
    """
    if not isinstance(markdown, str):
        raise TypeError(f"find_terms expects markdown text (str), got {type(markdown).__name__}")
    markdown = re.sub(r"`[^`\n]*`", lambda code: " " * len(code.group()), markdown)  # code is not prose
    mentions = []
    for start, end in _parentheses(markdown):
        chinese, inner = _parts(re.sub(r"[(（][^()（）]*[)）]", "", markdown[start + 1:end]))
        if chinese is None or chinese.startswith("《"):
            continue
        before = markdown[:start]
        phrase = _phrase(before)
        if not re.search(r"[A-Za-z]", phrase + " ".join(inner)):
            continue
        mentions.append(Mention(notebook, chinese, phrase, inner, before))
    return mentions


def scan_notebooks(folder: str | Path = NOTEBOOK_DIR, pattern: str = "[0-9][0-9]_*.ipynb") -> list[Mention]:
    """Every ``English (中文)`` pair in the markdown cells of the notebooks in ``folder``.

    Notebooks are read in name order; each mention carries the notebook's two-digit number.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"scan_notebooks needs the folder of the course notebooks, got {folder} "
                                "(on Colab, use GLOSSARY: the notebooks are not installed with the package)")
    mentions = []
    for path in sorted(folder.glob(pattern)):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                mentions.extend(find_terms("".join(cell["source"]), notebook=path.name[:2]))
    return mentions


# --------------------------------------------------------------------------- matching

def _words(text: str) -> list[str]:
    text = re.sub(r"[*`_\"“”'’]", " ", text.lower())
    return re.sub(r"[-‐–/]", " ", text).split()


def _same_word(written: str, entry: str) -> bool:
    """``written`` is ``entry`` or a regular plural of it."""
    plurals = {entry, entry + "s", entry + "es"}
    if entry.endswith("y"):
        plurals.add(entry[:-1] + "ies")
    return written in plurals


def _ends_with(words: list[str], name: str) -> bool:
    target = _words(name)
    return 0 < len(target) <= len(words) and all(
        _same_word(w, t) for w, t in zip(words[-len(target):], target))


def _candidates(mention: Mention, glossary) -> list[Term]:
    """Entries the mention's English names: longest match first."""
    phrase = _words(mention.phrase)
    found = []
    for term in glossary:
        lengths = [len(_words(name)) for name in term.names()
                   if _ends_with(phrase, name) or any(_ends_with(_words(part), name) for part in mention.inner)]
        if lengths:
            found.append((max(lengths), term))
    return [term for _, term in sorted(found, key=lambda pair: -pair[0])]


def resolve(mention: Mention, glossary=None) -> Term | None:
    """The glossary entry a mention refers to, or ``None``.

    The English before (or inside) the parenthesis must end with the entry's English or one of
    its aliases (plurals allowed); when several entries fit, the one with the same Chinese
    wins. Failing that, an entry with the mention's Chinese counts if the phrase's last word
    starts its English (a shortened term: "noise (噪声点)" for "noise point") or if its English
    appears earlier in the same cell (a heading "The gradient check" above "compared with
    numerical ones (梯度检验)"). Otherwise the longest English match is returned, whose
    Chinese then differs (an inconsistent translation), or ``None``.

    >>> term = resolve(Mention("02", "冷启动", "For each we count the cold-start"))
    >>> term.english, term.chinese
    ('cold start', '冷启动')
    """
    glossary = GLOSSARY if glossary is None else glossary
    candidates = _candidates(mention, glossary)
    for term in candidates:
        if term.chinese == mention.chinese:
            return term
    phrase = _words(mention.phrase)
    context = " ".join(_words(mention.before))
    for term in glossary:
        if term.chinese != mention.chinese:
            continue
        for name in term.names():
            words = _words(name)
            if (phrase and _same_word(phrase[-1], words[0])) or f" {' '.join(words)}" in f" {context}":
                return term
    return candidates[0] if candidates else None


PROBLEM_KINDS = ("unknown", "translation", "notebook")


def check_mentions(mentions, glossary=None, kinds=PROBLEM_KINDS) -> list[str]:
    """Problems between the notebooks' pairs and the glossary, one sentence each (empty = consistent).

    Three kinds: ``"unknown"``, a pair that names no entry; ``"translation"``, a pair whose
    Chinese differs from the entry's (an inconsistent translation); ``"notebook"``, an entry
    whose ``notebook`` is not the first notebook that marks it. ``kinds`` selects which to report.

    >>> check_mentions([Mention("01", "冷启动", "what helps with **cold start")])
    []
    >>> check_mentions([Mention("03", "时间切分", "The split is temporal")])
    ["03: 'The split is temporal (时间切分)' uses 时间切分, but GLOSSARY has 'temporal split' = 按时间划分"]
    """
    unknown_kinds = set(kinds) - set(PROBLEM_KINDS)
    if unknown_kinds:
        raise ValueError(f"kinds must be among {PROBLEM_KINDS}, got {sorted(unknown_kinds)}")
    glossary = GLOSSARY if glossary is None else glossary
    problems, first_seen = [], {}
    for mention in mentions:
        term = resolve(mention, glossary)
        if term is None:
            owner = next((t.english for t in glossary if t.chinese == mention.chinese), None)
            hint = f"; GLOSSARY gives {mention.chinese} to '{owner}'" if owner else ""
            problems.append(("unknown", f"{mention.notebook}: {mention.show()} matches no GLOSSARY entry{hint}"))
        elif term.chinese != mention.chinese:
            problems.append(("translation", f"{mention.notebook}: {mention.show()} uses {mention.chinese}, "
                                            f"but GLOSSARY has '{term.english}' = {term.chinese}"))
        else:
            first_seen.setdefault(term, mention.notebook)
    for term, notebook in first_seen.items():
        if term.notebook != notebook:
            problems.append(("notebook", f"{notebook}: '{term.english}' is first marked in notebook {notebook}, "
                                         f"but GLOSSARY says {term.notebook}"))
    return [message for kind, message in problems if kind in kinds]


# --------------------------------------------------------------------------- using it

def lookup(query: str, glossary=None) -> list[Term]:
    """Entries whose English (or an alias) or Chinese contains ``query``, case-insensitive.

    >>> [t.chinese for t in lookup("cold start")]
    ['冷启动']
    >>> [t.english for t in lookup("协同过滤")]
    ['collaborative filtering', 'neural collaborative filtering']
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"lookup needs a non-empty search string, got {query!r}")
    glossary = GLOSSARY if glossary is None else glossary
    wanted = query.strip().casefold()
    return [t for t in glossary
            if wanted in t.chinese.casefold() or any(wanted in name.casefold() for name in t.names())]


def glossary_markdown(glossary=None) -> str:
    """The text of ``docs/glossary.md``: one table row per entry, in glossary order."""
    glossary = GLOSSARY if glossary is None else glossary
    lines = ["# Glossary (术语表)", "",
             "Generated from `rec_utils/glossary.py` by `python -m rec_utils.glossary`; do not edit by hand.",
             "Each term is introduced, with its Chinese name, in the notebook given.", "",
             "| English | 中文 | notebook | definition |", "|---|---|---|---|"]

    def cell(text):
        return text.replace("|", "\\|")  # a bar inside a definition would end the table cell

    for term in glossary:
        english = term.english + (f" ({', '.join(term.aliases)})" if term.aliases else "")
        lines.append(f"| {cell(english)} | {term.chinese} | {term.notebook} | {cell(term.definition)} |")
    return "\n".join(lines) + "\n"


def write_glossary(path: str | Path = GLOSSARY_FILE, check: bool = False) -> bool:
    """Write ``docs/glossary.md``; with ``check``, only report whether it is current."""
    path = Path(path)
    new = glossary_markdown()
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if new != current and not check:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new, encoding="utf-8")
    return new == current


def _main(argv=None) -> int:
    """``python -m rec_utils.glossary [--check]``: write (or check) docs/glossary.md, list notebook problems."""
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    current = write_glossary(check=check)
    print(f"{GLOSSARY_FILE.relative_to(ROOT)}: " + ("up to date" if current else
                                                  "out of date" if check else "written") + f" ({len(GLOSSARY)} terms)")
    problems = check_mentions(scan_notebooks()) if NOTEBOOK_DIR.is_dir() else []
    for problem in problems:
        print("  " + problem)
    if problems:
        print(f"{len(problems)} problem(s) between the notebooks' 'term (中文)' pairs and GLOSSARY")
    return 1 if check and (problems or not current) else 0


if __name__ == "__main__":
    sys.exit(_main())

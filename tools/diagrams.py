"""Course tooling: the course's diagrams, drawn by code as SVG, in English and in Chinese.

Each diagram is a function that lays out boxes, arrows and labels on a small canvas; the text
of every label comes from a table with one entry per language, so the same drawing exists as
``docs/figures/<name>.svg`` (English) and ``docs/figures/zh/<name>.svg`` (中文). Text stays text
in the SVG (no outlines), so a figure is small, sharp at any zoom and searchable.

Notebooks show a figure from markdown, as an image whose source is the SVG itself
(``data:image/svg+xml;base64,...``): that renders in JupyterLab, on GitHub and on Colab, which
cannot follow a relative path to a file in the repository. A markdown cell that shows a figure
holds the marker ``<!-- figure: NAME -->`` on the line before the image; ``python
tools/diagrams.py`` rewrites the figure files and the images after every marker, and
``--check`` reports what is stale (``tests/test_diagrams.py`` runs it).

    python tools/diagrams.py            # write docs/figures and refresh the notebooks' images
    python tools/diagrams.py --check    # exit 1 when anything is out of date
"""

from __future__ import annotations

import base64
import html
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
LANGUAGES = ("en", "zh")
FONTS = {
    "en": "DejaVu Sans, Helvetica, Arial, sans-serif",
    "zh": "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Zen Hei, Microsoft YaHei, PingFang SC, sans-serif",
}

# The course's palette: one colour per role, used the same way in every figure.
COLOURS = {
    "data": "#dbeafe",      # inputs, data, users
    "model": "#fde68a",     # learned parts
    "op": "#e5e7eb",        # fixed operations
    "output": "#bbf7d0",    # scores, predictions, recommendations
    "loss": "#fecaca",      # losses, gradients, feedback
    "frame": "#f8fafc",
    "line": "#334155",
    "muted": "#64748b",
    "accent": "#b91c1c",
}


def _text_width(text: str, size: float) -> float:
    """Rough width of a line of text: wide (CJK) characters count about twice a Latin one."""
    units = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.58 for c in text)
    return units * size


@dataclass
class Canvas:
    """An SVG drawing: boxes, arrows and text, in user units (1 unit = 1 px at 100%)."""

    width: float
    height: float
    lang: str
    title: str
    parts: list[str] = field(default_factory=list)

    def box(self, x, y, w, h, text, fill="op", size=13, bold=False, rx=6, dashed=False, stroke="line"):
        """A rounded box centred on ``(x, y)`` with one or more centred lines of text."""
        colour = COLOURS.get(fill, fill)
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        self.parts.append(f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
                          f'rx="{rx}" fill="{colour}" stroke="{COLOURS[stroke]}" stroke-width="1.3"{dash}/>')
        self.label(x, y, text, size=size, bold=bold)
        return (x, y, w, h)

    def label(self, x, y, text, size=13, bold=False, colour="line", anchor="middle", italic=False):
        """Centred lines of text (``\\n`` separates lines)."""
        lines = str(text).split("\n")
        top = y - (len(lines) - 1) * size * 0.6
        weight = ' font-weight="bold"' if bold else ""
        style = ' font-style="italic"' if italic else ""
        for i, line in enumerate(lines):
            self.parts.append(f'<text x="{x:.1f}" y="{top + i * size * 1.2:.1f}" font-size="{size}" '
                              f'text-anchor="{anchor}" dominant-baseline="central" fill="{COLOURS.get(colour, colour)}"'
                              f'{weight}{style}>{html.escape(line)}</text>')

    def arrow(self, start, end, label=None, colour="line", dashed=False, size=11, label_offset=(0, -9),
              head=True, width=1.4):
        """A straight arrow from ``start`` to ``end`` (points), with an optional label at its middle."""
        (x1, y1), (x2, y2) = start, end
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        marker = f' marker-end="url(#head-{colour})"' if head else ""
        self.parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                          f'stroke="{COLOURS[colour]}" stroke-width="{width}"{dash}{marker}/>')
        if label:
            self.label((x1 + x2) / 2 + label_offset[0], (y1 + y2) / 2 + label_offset[1], label, size=size,
                       colour=colour)

    def path(self, d, colour="line", dashed=False, head=True, width=1.4):
        """A free path (SVG path data), e.g. a feedback loop, with an arrow head at its end."""
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        marker = f' marker-end="url(#head-{colour})"' if head else ""
        self.parts.append(f'<path d="{d}" fill="none" stroke="{COLOURS[colour]}" stroke-width="{width}"{dash}{marker}/>')

    def rect(self, x, y, w, h, fill, stroke="line", rx=0, opacity=1.0, dashed=False):
        """A plain rectangle by its top-left corner."""
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}" '
                          f'fill="{COLOURS.get(fill, fill)}" fill-opacity="{opacity}" stroke="{COLOURS[stroke]}" '
                          f'stroke-width="1"{dash}/>')

    def svg(self) -> str:
        heads = "".join(
            f'<marker id="head-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLOURS[name]}"/></marker>'
            for name in ("line", "muted", "accent"))
        body = "\n".join(self.parts)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" height="{self.height:.0f}" '
                f'viewBox="0 0 {self.width:.0f} {self.height:.0f}" font-family="{FONTS[self.lang]}" role="img">\n'
                f'<title>{html.escape(self.title)}</title>\n<defs>{heads}</defs>\n'
                f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n')


def _t(table: dict, lang: str) -> dict:
    """The labels of one language; every language must define the same keys."""
    keys = {key for texts in table.values() for key in texts}
    missing = {language: sorted(keys - set(texts)) for language, texts in table.items() if keys - set(texts)}
    if missing:
        raise ValueError(f"labels missing in some language: {missing}")
    return table[lang]


# --------------------------------------------------------------------------- the figures

def pipeline(lang: str = "en") -> Canvas:
    """The recommendation pipeline of the source's section 2, from logs to serving and back."""
    t = _t({
        "en": {"title": "The recommendation pipeline", "logs": "Interaction logs\n(ratings, clicks)",
               "side": "Side information\n(users, items, context)", "prep": "Preprocessing\nclean, normalise, split",
               "feat": "Feature\nengineering", "cand": "Candidate generation\n(retrieval)", "rank": "Ranking",
               "rerank": "Re-ranking\n(diversity, business rules)", "eval": "Offline evaluation\n(held-out data)",
               "serve": "Serving", "user": "User", "feedback": "new interactions (feedback loop)",
               "ab": "online test\n(A/B, interleaving)", "train": "training", "thousands": "millions → hundreds",
               "tens": "hundreds → tens"},
        "zh": {"title": "推荐流水线", "logs": "交互日志\n（评分、点击）", "side": "辅助信息\n（用户、物品、上下文）",
               "prep": "预处理\n清洗、归一化、划分", "feat": "特征工程", "cand": "候选生成\n（召回）", "rank": "排序",
               "rerank": "重排序\n（多样性、业务规则）", "eval": "离线评估\n（留出数据）", "serve": "在线服务",
               "user": "用户", "feedback": "新的交互（反馈闭环）", "ab": "在线实验\n（A/B 测试、交错实验）",
               "train": "训练", "thousands": "百万 → 数百", "tens": "数百 → 数十"},
    }, lang)
    c = Canvas(930, 360, lang, t["title"])
    c.label(465, 22, t["title"], size=16, bold=True)
    c.box(105, 110, 170, 52, t["logs"], "data")
    c.box(105, 195, 170, 52, t["side"], "data")
    c.box(275, 150, 150, 60, t["prep"], "op")
    c.box(440, 150, 120, 60, t["feat"], "op")
    c.arrow((190, 110), (200, 135))
    c.arrow((190, 195), (200, 168))
    c.arrow((350, 150), (380, 150))
    c.box(640, 80, 160, 52, t["cand"], "model")
    c.box(640, 165, 160, 44, t["rank"], "model")
    c.box(640, 250, 210, 52, t["rerank"], "model")
    c.arrow((500, 140), (560, 95), t["train"], label_offset=(-14, -4))
    c.arrow((640, 106), (640, 143), t["thousands"], label_offset=(66, 0))
    c.arrow((640, 187), (640, 224), t["tens"], label_offset=(58, 0))
    c.box(835, 250, 110, 44, t["serve"], "output")
    c.box(835, 150, 90, 40, t["user"], "data")
    c.arrow((745, 250), (780, 250))
    c.arrow((835, 228), (835, 170))
    c.box(440, 255, 150, 52, t["eval"], "loss")
    c.arrow((560, 172), (490, 229), dashed=True, colour="muted")
    c.path("M 835 272 C 835 340, 60 340, 10 250 L 10 110 L 19 110", colour="muted", dashed=True)
    c.label(330, 336, t["feedback"], size=11, colour="muted")
    c.label(835, 110, t["ab"], size=10, colour="muted")
    return c


def mlp_forward_backward(lang: str = "en") -> Canvas:
    """A two-layer network: the forward pass computes the loss, the backward pass its gradients."""
    t = _t({
        "en": {"title": "Forward and backward pass of a two-layer network", "x": "input x", "h": "hidden h = ReLU(W₁x + b₁)",
               "y": "output ŷ = σ(W₂h + b₂)", "loss": "loss L(ŷ, y)", "fwd": "forward: compute activations",
               "bwd": "backward: chain rule, ∂L/∂W₂ then ∂L/∂W₁", "w1": "W₁, b₁", "w2": "W₂, b₂",
               "g2": "∂L/∂ŷ · σ′", "g1": "(W₂ᵀ δ₂) ⊙ ReLU′", "update": "gradient step: W ← W − η ∂L/∂W"},
        "zh": {"title": "两层网络的前向传播与反向传播", "x": "输入 x", "h": "隐藏层 h = ReLU(W₁x + b₁)",
               "y": "输出 ŷ = σ(W₂h + b₂)", "loss": "损失 L(ŷ, y)", "fwd": "前向传播：逐层计算激活值",
               "bwd": "反向传播：链式法则，先求 ∂L/∂W₂，再求 ∂L/∂W₁", "w1": "W₁, b₁", "w2": "W₂, b₂",
               "g2": "∂L/∂ŷ · σ′", "g1": "(W₂ᵀ δ₂) ⊙ ReLU′", "update": "梯度下降：W ← W − η ∂L/∂W"},
    }, lang)
    c = Canvas(900, 300, lang, t["title"])
    c.label(450, 22, t["title"], size=16, bold=True)
    xs = [90, 320, 560, 790]
    c.box(xs[0], 130, 130, 50, t["x"], "data")
    c.box(xs[1], 130, 190, 50, t["h"], "model", size=12)
    c.box(xs[2], 130, 190, 50, t["y"], "model", size=12)
    c.box(xs[3], 130, 130, 50, t["loss"], "loss")
    for a, b, w in ((0, 1, t["w1"]), (1, 2, t["w2"]), (2, 3, None)):
        start = xs[a] + (65 if a == 0 else 95)
        end = xs[b] - (95 if b < 3 else 65)
        c.arrow((start, 120), (end, 120), w)
    for a, b, g in ((3, 2, t["g2"]), (2, 1, t["g1"])):
        start = xs[a] - (65 if a == 3 else 95)
        end = xs[b] + 95
        c.arrow((start, 150), (end, 150), g, colour="accent", label_offset=(0, 16))
    c.label(450, 222, t["fwd"], size=12, colour="line")
    c.label(450, 246, t["bwd"], size=12, colour="accent")
    c.label(450, 274, t["update"], size=12, colour="muted")
    return c


def ncf_models(lang: str = "en") -> Canvas:
    """GMF, MLP and NeuMF side by side (He et al., WWW 2017)."""
    t = _t({
        "en": {"title": "GMF, MLP and NeuMF", "user": "user id", "item": "item id", "emb": "embedding",
               "gmf": "GMF", "mlp": "MLP", "neumf": "NeuMF", "prod": "element-wise\nproduct", "concat": "concatenate",
               "layers": "dense layers\n(ReLU)", "out": "σ(wᵀ·) → P(interact)", "fuse": "concatenate GMF and MLP"},
        "zh": {"title": "GMF、MLP 与 NeuMF", "user": "用户 id", "item": "物品 id", "emb": "嵌入",
               "gmf": "GMF", "mlp": "MLP", "neumf": "NeuMF", "prod": "逐元素\n乘积", "concat": "拼接",
               "layers": "全连接层\n（ReLU）", "out": "σ(wᵀ·) → 交互概率", "fuse": "拼接 GMF 与 MLP 的输出"},
    }, lang)
    c = Canvas(960, 360, lang, t["title"])
    c.label(480, 22, t["title"], size=16, bold=True)

    def column(x0, name, kind):
        c.label(x0, 55, name, size=14, bold=True)
        c.box(x0 - 55, 320, 90, 30, t["user"], "data", size=11)
        c.box(x0 + 55, 320, 90, 30, t["item"], "data", size=11)
        c.box(x0 - 55, 265, 90, 30, t["emb"], "model", size=11)
        c.box(x0 + 55, 265, 90, 30, t["emb"], "model", size=11)
        c.arrow((x0 - 55, 305), (x0 - 55, 281))
        c.arrow((x0 + 55, 305), (x0 + 55, 281))
        if kind == "gmf":
            c.box(x0, 195, 110, 40, t["prod"], "op", size=11)
            top = 175
        else:
            c.box(x0, 205, 110, 28, t["concat"], "op", size=11)
            c.box(x0, 150, 110, 40, t["layers"], "model", size=11)
            c.arrow((x0, 191), (x0, 171))
            top = 130
        c.arrow((x0 - 55, 250), (x0 - 20, 220 if kind == "gmf" else 219))
        c.arrow((x0 + 55, 250), (x0 + 20, 220 if kind == "gmf" else 219))
        return top

    g = column(150, t["gmf"], "gmf")
    c.box(150, 95, 160, 30, t["out"], "output", size=11)
    c.arrow((150, g), (150, 111))
    m = column(440, t["mlp"], "mlp")
    c.box(440, 95, 160, 30, t["out"], "output", size=11)
    c.arrow((440, m), (440, 111))
    # NeuMF: a GMF part and an MLP part, fused
    c.label(770, 55, t["neumf"], size=14, bold=True)
    c.box(690, 320, 90, 30, t["user"], "data", size=11)
    c.box(850, 320, 90, 30, t["item"], "data", size=11)
    c.box(690, 220, 100, 40, "GMF", "model", size=12)
    c.box(850, 220, 100, 40, "MLP", "model", size=12)
    c.arrow((690, 305), (690, 241))
    c.arrow((850, 305), (850, 241))
    c.arrow((705, 305), (835, 241), colour="muted")
    c.arrow((835, 305), (705, 241), colour="muted")
    c.box(770, 150, 170, 30, t["fuse"], "op", size=11)
    c.arrow((690, 199), (740, 166))
    c.arrow((850, 199), (800, 166))
    c.box(770, 95, 160, 30, t["out"], "output", size=11)
    c.arrow((770, 134), (770, 111))
    return c


def gan_game(lang: str = "en") -> Canvas:
    """The GAN minimax game, and CFGAN's vector-wise generator (Chae et al., CIKM 2018)."""
    t = _t({
        "en": {"title": "The GAN game, and CFGAN's vector-wise generator", "noise": "noise z", "g": "generator G",
               "fake": "G(z)", "real": "real sample x", "d": "discriminator D", "p": "P(real)",
               "dloss": "D maximises log D(x) + log(1 − D(G(z)))", "gloss": "G maximises log D(G(z))",
               "cf": "CFGAN", "cond": "user's history c_u\n(items rated)", "gen": "generator G(z, c_u)",
               "vec": "purchase vector\nover all items", "mask": "masked by the\nuser's items (+ PM)",
               "disc": "discriminator\nD(vector, c_u)", "zr": "ZR: push sampled\nunrated items to 0"},
        "zh": {"title": "GAN 的博弈，以及 CFGAN 的向量式生成器", "noise": "噪声 z", "g": "生成器 G",
               "fake": "G(z)", "real": "真实样本 x", "d": "判别器 D", "p": "P(真实)",
               "dloss": "D 最大化 log D(x) + log(1 − D(G(z)))", "gloss": "G 最大化 log D(G(z))",
               "cf": "CFGAN", "cond": "用户历史 c_u\n（评过分的物品）", "gen": "生成器 G(z, c_u)",
               "vec": "对全部物品的\n购买向量", "mask": "按用户的物品遮盖\n（以及部分遮盖 PM）",
               "disc": "判别器\nD(向量, c_u)", "zr": "零重构 ZR：把采样的\n未评分物品推向 0"},
    }, lang)
    c = Canvas(960, 420, lang, t["title"])
    c.label(480, 22, t["title"], size=16, bold=True)
    c.box(80, 90, 100, 36, t["noise"], "data", size=12)
    c.box(230, 90, 120, 40, t["g"], "model")
    c.box(370, 90, 80, 36, t["fake"], "output", size=12)
    c.box(370, 160, 120, 36, t["real"], "data", size=12)
    c.box(540, 125, 130, 44, t["d"], "model")
    c.box(680, 125, 80, 36, t["p"], "output", size=12)
    c.arrow((130, 90), (170, 90))
    c.arrow((290, 90), (330, 90))
    c.arrow((410, 95), (475, 117))
    c.arrow((430, 158), (475, 135))
    c.arrow((605, 125), (640, 125))
    c.label(360, 215, t["dloss"], size=12, colour="accent")
    c.label(360, 238, t["gloss"], size=12, colour="accent")
    c.path("M 680 105 C 680 50, 260 40, 235 68", colour="accent", dashed=True)
    # CFGAN
    c.label(480, 275, t["cf"], size=14, bold=True)
    c.box(95, 350, 150, 46, t["cond"], "data", size=11)
    c.box(280, 350, 150, 40, t["gen"], "model", size=12)
    c.box(455, 350, 130, 46, t["vec"], "output", size=11)
    c.box(630, 350, 150, 46, t["mask"], "op", size=11)
    c.box(820, 350, 130, 46, t["disc"], "model", size=11)
    c.arrow((170, 350), (205, 350))
    c.arrow((355, 350), (390, 350))
    c.arrow((520, 350), (555, 350))
    c.arrow((705, 350), (755, 350))
    c.path("M 95 327 C 95 300, 820 295, 820 327", colour="muted", dashed=True)
    c.label(455, 400, t["zr"], size=10, colour="muted")
    return c


def rnn_unrolled(lang: str = "en") -> Canvas:
    """An RNN unrolled over a user's history, as GRU4Rec uses it for next-item prediction."""
    t = _t({
        "en": {"title": "An unrolled GRU: next-item prediction (GRU4Rec)", "item": "item", "emb": "embed",
               "gru": "GRU", "out": "softmax over items", "next": "predicts", "state": "h",
               "note": "the same weights at every step; the state h carries the history forward"},
        "zh": {"title": "展开的 GRU：下一物品预测（GRU4Rec）", "item": "物品", "emb": "嵌入",
               "gru": "GRU", "out": "对全部物品的 softmax", "next": "预测", "state": "h",
               "note": "每一步共享同一组权重；状态 h 把历史向前传递"},
    }, lang)
    c = Canvas(900, 330, lang, t["title"])
    c.label(450, 22, t["title"], size=16, bold=True)
    steps = [(1, 2), (2, 3), (3, 4), (4, 5)]
    for k, (now, nxt) in enumerate(steps):
        x = 140 + k * 200
        c.box(x, 280, 80, 30, f"{t['item']} {now}", "data", size=11)
        c.box(x, 225, 80, 28, t["emb"], "op", size=11)
        c.box(x, 160, 90, 44, t["gru"], "model")
        c.box(x, 85, 140, 30, t["out"], "output", size=10)
        c.arrow((x, 265), (x, 239))
        c.arrow((x, 211), (x, 182))
        c.arrow((x, 138), (x, 100))
        c.label(x, 55, f"{t['next']} {t['item']} {nxt}", size=11, colour="muted")
        if k < len(steps) - 1:
            c.arrow((x + 45, 160), (x + 155, 160), t["state"])
    c.arrow((20, 160), (95, 160), "h₀")
    c.label(450, 318, t["note"], size=11, colour="muted")
    return c


def sasrec_blocks(lang: str = "en") -> Canvas:
    """SASRec: embeddings plus positions, stacked self-attention blocks, and the causal mask."""
    t = _t({
        "en": {"title": "SASRec: self-attention blocks with a causal mask", "tok": "item tokens (left-padded)",
               "emb": "item embedding + learned position", "attn": "masked multi-head self-attention",
               "ff": "point-wise feed-forward", "norm": "residual + layer norm around each",
               "blocks": "× n blocks", "out": "a score for every item (dense layer) → next item at every position",
               "mask": "causal mask", "pos": "position", "sees": "attends to", "allowed": "allowed",
               "hidden": "masked (future)"},
        "zh": {"title": "SASRec：带因果掩码的自注意力块", "tok": "物品 token（左侧填充）",
               "emb": "物品嵌入 + 可学习的位置嵌入", "attn": "带掩码的多头自注意力",
               "ff": "逐位置前馈网络", "norm": "每个子层：残差 + 层归一化",
               "blocks": "× n 个块", "out": "对每个物品打分（全连接层）→ 每个位置预测下一个物品",
               "mask": "因果掩码", "pos": "位置", "sees": "可关注", "allowed": "允许",
               "hidden": "屏蔽（未来）"},
    }, lang)
    c = Canvas(940, 400, lang, t["title"])
    c.label(470, 22, t["title"], size=16, bold=True)
    x = 250
    c.box(x, 365, 300, 30, t["tok"], "data", size=12)
    c.box(x, 310, 300, 32, t["emb"], "model", size=12)
    c.rect(x - 175, 140, 350, 140, "frame", dashed=True, rx=8)
    c.box(x, 245, 300, 36, t["attn"], "model", size=12)
    c.box(x, 180, 300, 36, t["ff"], "model", size=12)
    c.label(x + 8, 152, t["norm"], size=10, colour="muted", anchor="start")
    c.label(x + 205, 210, t["blocks"], size=13, bold=True)
    c.box(x, 85, 420, 40, t["out"], "output", size=11)
    c.arrow((x, 350), (x, 326))
    c.arrow((x, 294), (x, 263))
    c.arrow((x, 227), (x, 198))
    c.arrow((x, 162), (x, 105))
    # the mask: rows = query position, columns = key position
    n, cell, left, top = 6, 30, 610, 120
    c.label(left + n * cell / 2, top - 40, t["mask"], size=14, bold=True)
    c.label(left + n * cell / 2, top - 18, f"{t['pos']} →  ({t['sees']})", size=10, colour="muted")
    for i in range(n):
        for j in range(n):
            allowed = j <= i
            c.rect(left + j * cell, top + i * cell, cell, cell, "output" if allowed else "op")
    c.label(left - 10, top + n * cell / 2, t["pos"] + " ↓", size=10, colour="muted", anchor="end")
    c.rect(left, top + n * cell + 18, 14, 14, "output")
    c.label(left + 20, top + n * cell + 25, t["allowed"], size=10, anchor="start")
    c.rect(left + 95, top + n * cell + 18, 14, 14, "op")
    c.label(left + 115, top + n * cell + 25, t["hidden"], size=10, anchor="start")
    return c


def agent_environment(lang: str = "en") -> Canvas:
    """The agent–environment loop, with the course's user simulator as the environment."""
    t = _t({
        "en": {"title": "The agent–environment loop with a simulated user", "agent": "Agent\n(recommender policy π)",
               "env": "Environment: simulated user\n(likes, appeal, genre fatigue,\ndissatisfaction, may leave)",
               "action": "action aₜ: the item shown", "reward": "reward rₜ: click (1) or not (0)",
               "state": "observation sₜ₊₁:\nwhat the system can log", "truth": "hidden: true like probabilities",
               "return": "goal: maximise the session's return  Σ γᵗ rₜ"},
        "zh": {"title": "智能体与环境的循环：模拟用户", "agent": "智能体\n（推荐策略 π）",
               "env": "环境：模拟用户\n（喜好、吸引力、类型疲劳、\n不满度，可能离开）",
               "action": "动作 aₜ：展示的物品", "reward": "奖励 rₜ：点击（1）或未点击（0）",
               "state": "观测 sₜ₊₁：\n系统能记录的信息", "truth": "隐藏：真实的喜好概率",
               "return": "目标：最大化会话回报  Σ γᵗ rₜ"},
    }, lang)
    c = Canvas(860, 330, lang, t["title"])
    c.label(430, 22, t["title"], size=16, bold=True)
    c.box(200, 165, 210, 70, t["agent"], "model", size=13)
    c.box(650, 165, 250, 90, t["env"], "data", size=12)
    c.path("M 200 128 C 200 70, 650 70, 650 118", colour="line")
    c.label(425, 66, t["action"], size=12)
    c.path("M 650 212 C 650 270, 200 270, 200 202", colour="accent")
    c.label(425, 262, t["reward"], size=12, colour="accent")
    c.arrow((523, 175), (307, 175), t["state"], colour="muted", label_offset=(0, -22))
    c.label(668, 226, t["truth"], size=10, colour="muted", italic=True, anchor="start")
    c.label(430, 310, t["return"], size=12)
    return c


def retrieve_then_rank(lang: str = "en") -> Canvas:
    """Two-stage serving: a cheap retriever narrows the catalogue, a stronger model ranks the rest."""
    t = _t({
        "en": {"title": "Retrieve, then rank", "req": "request\n(user u)", "cat": "catalogue\n(all items)",
               "ret": "retrieval: nearest neighbours\nof the user vector (IVF index)", "cands": "~100 candidates",
               "rank": "ranking model\nscores each candidate", "top": "top-k shown", "cheap": "cheap, approximate",
               "exp": "expensive, precise", "recall": "measured by recall@100", "ndcg": "measured by NDCG@10"},
        "zh": {"title": "先召回，再排序", "req": "请求\n（用户 u）", "cat": "物品库\n（全部物品）",
               "ret": "召回：用户向量的近邻\n（IVF 索引）", "cands": "约 100 个候选",
               "rank": "排序模型\n为每个候选打分", "top": "展示前 k 个", "cheap": "廉价、近似",
               "exp": "昂贵、精确", "recall": "用 recall@100 衡量", "ndcg": "用 NDCG@10 衡量"},
    }, lang)
    c = Canvas(900, 260, lang, t["title"])
    c.label(450, 22, t["title"], size=16, bold=True)
    c.box(70, 120, 100, 46, t["req"], "data", size=12)
    c.box(250, 200, 130, 46, t["cat"], "data", size=12)
    c.box(290, 110, 200, 54, t["ret"], "model", size=11)
    c.box(480, 110, 110, 34, t["cands"], "output", size=11)
    c.box(640, 110, 150, 50, t["rank"], "model", size=12)
    c.box(810, 110, 100, 34, t["top"], "output", size=12)
    c.arrow((120, 116), (190, 112))
    c.arrow((265, 177), (280, 137))
    c.arrow((390, 110), (425, 110))
    c.arrow((535, 110), (565, 110))
    c.arrow((715, 110), (760, 110))
    c.label(290, 60, t["cheap"], size=11, colour="muted")
    c.label(640, 60, t["exp"], size=11, colour="muted")
    c.label(410, 200, t["recall"], size=11, colour="muted")
    c.label(700, 200, t["ndcg"], size=11, colour="muted")
    return c


def distributed_training(lang: str = "en") -> Canvas:
    """Data-parallel training: one machine with several replicas, or several workers."""
    t = _t({
        "en": {"title": "Data-parallel training: MirroredStrategy and MultiWorkerMirroredStrategy",
               "mirrored": "MirroredStrategy: one machine", "multi": "MultiWorkerMirroredStrategy: several machines",
               "batch": "global batch", "shard": "shard", "replica": "replica\n(same weights)", "grad": "gradients",
               "allreduce": "all-reduce (sum)", "worker": "worker", "network": "over the network",
               "same": "every replica applies the same update: identical weights after each step"},
        "zh": {"title": "数据并行训练：MirroredStrategy 与 MultiWorkerMirroredStrategy",
               "mirrored": "MirroredStrategy：单机", "multi": "MultiWorkerMirroredStrategy：多机",
               "batch": "全局批次", "shard": "分片", "replica": "副本\n（相同权重）", "grad": "梯度",
               "allreduce": "全归约（求和）", "worker": "工作节点", "network": "经由网络",
               "same": "每个副本执行相同的更新：每一步之后权重都相同"},
    }, lang)
    c = Canvas(960, 360, lang, t["title"])
    c.label(480, 22, t["title"], size=15, bold=True)
    for part, (x0, title, boxes, over) in enumerate(((40, t["mirrored"], ("GPU/CPU 0", "GPU/CPU 1"), None),
                                                      (500, t["multi"], (f"{t['worker']} 0", f"{t['worker']} 1"),
                                                       t["network"]))):
        c.rect(x0, 50, 420, 265, "frame", rx=10, dashed=part == 1)
        c.label(x0 + 210, 70, title, size=12, bold=True)
        c.box(x0 + 210, 110, 150, 30, t["batch"], "data", size=11)
        for k, name in enumerate(boxes):
            x = x0 + 110 + k * 200
            c.arrow((x0 + 210, 126), (x, 155), f"{t['shard']} {k}", size=10, label_offset=(-40 if k == 0 else 40, -2))
            c.box(x, 190, 120, 50, f"{name}\n{t['replica'].splitlines()[0]}", "model", size=11)
            c.arrow((x, 215), (x, 245), t["grad"], size=10, label_offset=(28, 0))
        c.box(x0 + 210, 265, 220, 32, t["allreduce"] + (f" — {over}" if over else ""), "loss", size=11)
    c.label(480, 340, t["same"], size=12, colour="muted")
    return c


FIGURES_BY_NAME = {
    "pipeline": pipeline,
    "mlp_forward_backward": mlp_forward_backward,
    "ncf_models": ncf_models,
    "gan_game": gan_game,
    "rnn_unrolled": rnn_unrolled,
    "sasrec_blocks": sasrec_blocks,
    "agent_environment": agent_environment,
    "retrieve_then_rank": retrieve_then_rank,
    "distributed_training": distributed_training,
}


# --------------------------------------------------------------------------- files and notebooks

def figure_path(name: str, lang: str = "en") -> Path:
    return FIGURES / f"{name}.svg" if lang == "en" else FIGURES / lang / f"{name}.svg"


def render(name: str, lang: str = "en") -> str:
    if name not in FIGURES_BY_NAME:
        raise ValueError(f"unknown figure {name!r}; expected one of {sorted(FIGURES_BY_NAME)}")
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    return FIGURES_BY_NAME[name](lang).svg()


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


_MARKER = re.compile(r"<!-- figure: (?P<name>[a-z_]+) -->\n!\[(?P<alt>[^\]]*)\]\((?P<src>[^)]*)\)")


def refresh_markdown(text: str, lang: str = "en") -> str:
    """The image after every ``<!-- figure: NAME -->`` marker, pointed at the current drawing."""
    def replace(match):
        name = match.group("name")
        return f"<!-- figure: {name} -->\n![{match.group('alt')}]({data_uri(render(name, lang))})"

    return _MARKER.sub(replace, text)


def markers_in(text: str) -> list[str]:
    return [m.group("name") for m in _MARKER.finditer(text)]


def sync(check: bool = False, notebooks=None) -> list[str]:
    """Write the figure files and refresh the notebooks' images; return what was (or is) stale."""
    stale = []
    for lang in LANGUAGES:
        for name in FIGURES_BY_NAME:
            path = figure_path(name, lang)
            svg = render(name, lang)
            if not path.exists() or path.read_text(encoding="utf-8") != svg:
                stale.append(str(path.relative_to(ROOT)))
                if not check:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(svg, encoding="utf-8")
    paths = notebooks if notebooks is not None else sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        changed = False
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            source = "".join(cell["source"])
            new = refresh_markdown(source, "zh" if "/zh/" in str(path) else "en")
            if new != source:
                changed = True
                cell["source"] = new.splitlines(keepends=True)
        if changed:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return stale


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    stale = sync(check=check)
    if check:
        print("figures and notebook images are up to date" if not stale else
              "out of date (run python tools/diagrams.py):\n  " + "\n  ".join(stale))
        return 1 if stale else 0
    print(f"wrote {len(stale)} file(s)" if stale else "figures and notebook images were up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

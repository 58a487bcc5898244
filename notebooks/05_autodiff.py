# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Autodiff and computational graphs
#
# funml's autodiff engine builds the computational graph of an expression, runs the
# forward pass, then propagates gradients backwards from the output, exactly as a hand
# derivation with the chain rule does.

# %%
# %matplotlib inline
import funml
from funml.autodiff import Value, backprop, draw_graph, format_table

# The engine on scalars: a sigmoid neuron.
w0, x0, w1, x1, w2 = Value(2.0), Value(-1.0), Value(-3.0), Value(-2.0), Value(-3.0)
out = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
out.backward()
print(f"out = {out.data:.4f}; dout/dw0 = {w0.grad:.4f}, dout/dx0 = {x0.grad:.4f}")

# %% [markdown]
# The same neuron from text: `backprop` parses the expression (no `eval`), evaluates it
# and fills in every node's gradient; `draw_graph` draws it.

# %%
graph = backprop(
    "1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
)
print(format_table(graph))

# %%
draw_graph(graph)

# %% [markdown]
# The `graphs` experiment draws the course's two graphs and checks every gradient against
# torch's autograd.

# %%
funml.run("graphs")

"""What happens inside a layered model: backprop by hand for one sample, and what each
activation layer is doing (saturated Tanh or Sigmoid units, dead ReLUs).

Both read the live model without changing it: no ``.grad`` is touched, no graph is kept, and
they run in eval mode (``train_modes``), so BatchNorm's running averages do not move and no
dropout mask is drawn. The hand-written backward exists to explain; it is checked against
autograd's gradient of the same sample's loss, and the largest difference is reported
beside the tolerance. One sample has no batch statistics: with BatchNorm the walk is the
eval-mode one, where BatchNorm is a fixed scale and shift per unit and dropout passes all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from gui_trainer.core.records import Values
from gui_trainer.core.train_modes import eval_mode, measuring, stochastic

#: float32 arithmetic in another order agrees to about this, relative to the gradient's size.
RELATIVE_TOLERANCE = 1e-5
#: |tanh| or a sigmoid this close to its bounds passes almost no gradient on.
SATURATED = 0.97


@dataclass(frozen=True)
class LayerStep:
    """One layer with parameters on the way back (Linear or BatchNorm1d): its shapes and a
    few of its live numbers."""

    name: str
    #: Linear: (out, in) of the weight; the sample's input to the layer has ``in`` numbers.
    #: BatchNorm1d: (units,) of its scale γ.
    weight_shape: tuple[int, ...]
    #: ∂loss/∂z for this layer's outputs (the "delta"), first numbers of it.
    delta: Values
    #: The hand-made gradients' largest difference from autograd's, for weight and bias.
    weight_difference: float
    bias_difference: float
    #: The largest gradient entry, so the difference can be read relative to it.
    scale: float

    @property
    def agrees(self) -> bool:
        return max(self.weight_difference, self.bias_difference) <= (
            RELATIVE_TOLERANCE * max(self.scale, 1e-12))


@dataclass(frozen=True)
class Backprop:
    sample: int
    loss: float
    #: The output layer first, as backward visits them.
    layers: tuple[LayerStep, ...]
    #: The model has dropout or BatchNorm, so the walk is the eval-mode one.
    eval_mode: bool = False
    #: The loss was cross-entropy of softmax(outputs): the walk starts through it.
    softmax_first: bool = False

    @property
    def agrees(self) -> bool:
        return all(layer.agrees for layer in self.layers)

    def lines(self) -> list[str]:
        """The walk written out: shapes, a few numbers, and the check against autograd."""
        mode = " in eval mode" if self.eval_mode else ""
        text = [f"Sample {self.sample}: its own loss{mode} = {self.loss:.6g}",
                "(z = W·a + b is a layer's output, a its input; δ = ∂loss/∂z)"]
        if self.softmax_first:
            text.append("(loss = cross-entropy of p = softmax(output): at the output "
                        "δ = p ⊙ (g − Σ p·g) with g = softmax(p) − one-hot)")
        if self.eval_mode:
            text.append("(model.eval(): BatchNorm is z = γ·(a − running_mean)/√(running_var + "
                        "eps) + β, dropout passes a unchanged)")
        for layer in self.layers:
            out = layer.weight_shape[0]
            difference = max(layer.weight_difference, layer.bias_difference)
            shown = ", ".join(f"{v + 0.0:.4g}" for v in layer.delta[:4])  # no "-0"
            more = "…" if len(layer.delta) > 4 else ""
            numbers = "number" if out == 1 else "numbers"
            check = (f"vs autograd: at most {difference:.2g} apart (allowed "
                     f"{RELATIVE_TOLERANCE:g} × {layer.scale:.3g})")
            if len(layer.weight_shape) == 1:
                rule = f"  ∂loss/∂γ = δ · â, ∂loss/∂β = δ ({out}); {check}"
            else:
                rule = (f"  ∂loss/∂W = δ · aᵀ ({out}×{layer.weight_shape[1]}), ∂loss/∂b = δ; "
                        f"{check}")
            text += [f"{layer.name}: δ has {out} {numbers} [{shown}{more}]", rule]
        return text


_DERIVATIVE = {
    nn.ReLU: lambda z, a: (z > 0).to(z.dtype),
    nn.Tanh: lambda z, a: 1 - a * a,
    nn.Sigmoid: lambda z, a: a * (1 - a),
}


def backprop_by_layer(model: nn.Sequential, inputs: torch.Tensor, targets: torch.Tensor,
                      task: str, sample: int, softmax_first: bool = False) -> Backprop:
    """The chain rule layer by layer for ``inputs[sample]``, checked against autograd.

    ``softmax_first``: the loss is cross-entropy of softmax(outputs) (the experiment's
    mistake), so the walk starts through that extra softmax.
    """
    if not 0 <= sample < len(inputs):
        raise ValueError(f"sample must be 0 to {len(inputs) - 1}, not {sample}")
    layers = list(model.children())
    x, t = inputs[sample:sample + 1], targets[sample:sample + 1]
    with measuring(model):
        activations = [x]
        for layer in layers:
            activations.append(layer(activations[-1]))
        out = activations[-1]
        if task == "classification" and softmax_first:
            # ∂/∂p of cross-entropy on p = softmax(out) is g = softmax(p) − one-hot; back
            # through that softmax: δ = p ⊙ (g − Σ p·g)
            p = torch.softmax(out, dim=1)
            g = torch.softmax(p, dim=1) - nn.functional.one_hot(t, out.shape[1]).to(out.dtype)
            delta = p * (g - (p * g).sum(dim=1, keepdim=True))
            loss = float(nn.functional.cross_entropy(p, t).item())
        elif task == "classification":
            probabilities = torch.softmax(out, dim=1)
            delta = probabilities - nn.functional.one_hot(t, out.shape[1]).to(out.dtype)
            loss = float(nn.functional.cross_entropy(out, t).item())
        else:
            delta = 2 * (out - t) / out.numel()
            loss = float(nn.functional.mse_loss(out, t).item())
    with eval_mode(model):
        reference = _autograd(model, x, t, task, softmax_first)
    steps = []
    with torch.no_grad():
        for index in range(len(layers) - 1, -1, -1):
            layer = layers[index]
            if isinstance(layer, nn.Dropout):
                continue  # eval mode: the identity, δ passes unchanged
            if isinstance(layer, nn.BatchNorm1d):
                delta, step = _batch_norm_back(layer, index, activations[index], delta,
                                               reference)
                steps.append(step)
                continue
            if not isinstance(layer, nn.Linear):
                z, a = activations[index], activations[index + 1]
                delta = delta * _DERIVATIVE[type(layer)](z, a)
                continue
            d_weight = delta.T @ activations[index]
            d_bias = delta.reshape(-1)
            auto_weight, auto_bias = reference[f"{index}.weight"], reference[f"{index}.bias"]
            steps.append(LayerStep(
                name=f"layer {index} (Linear {layer.in_features}→{layer.out_features})",
                weight_shape=(layer.out_features, layer.in_features),
                delta=tuple(delta.reshape(-1).tolist()),
                weight_difference=float((d_weight - auto_weight).abs().max()),
                bias_difference=float((d_bias - auto_bias).abs().max()),
                scale=float(max(auto_weight.abs().max(), auto_bias.abs().max())),
            ))
            delta = delta @ layer.weight
    return Backprop(sample, loss, tuple(steps), eval_mode=stochastic(model),
                    softmax_first=softmax_first and task == "classification")


def _batch_norm_back(layer: nn.BatchNorm1d, index: int, a: torch.Tensor, delta: torch.Tensor,
                     reference: dict[str, torch.Tensor]) -> tuple[torch.Tensor, LayerStep]:
    """Back through BatchNorm in eval mode: z = γ·â + β with â = (a − mean)/√(var + eps)."""
    assert layer.running_mean is not None and layer.running_var is not None
    spread = torch.sqrt(layer.running_var + layer.eps)
    normalised = (a - layer.running_mean) / spread
    d_gamma = (delta * normalised).reshape(-1)
    d_beta = delta.reshape(-1)
    auto_gamma, auto_beta = reference[f"{index}.weight"], reference[f"{index}.bias"]
    step = LayerStep(
        name=f"layer {index} (BatchNorm1d {layer.num_features})",
        weight_shape=(layer.num_features,),
        delta=tuple(delta.reshape(-1).tolist()),
        weight_difference=float((d_gamma - auto_gamma).abs().max()),
        bias_difference=float((d_beta - auto_beta).abs().max()),
        scale=float(max(auto_gamma.abs().max(), auto_beta.abs().max())),
    )
    return delta * layer.weight / spread, step


def _autograd(model: nn.Module, x: torch.Tensor, t: torch.Tensor,
              task: str, softmax_first: bool = False) -> dict[str, torch.Tensor]:
    """Autograd's gradient of the one sample's loss, computed aside (``.grad`` untouched)."""
    out = model(x)
    if softmax_first:
        out = torch.softmax(out, dim=1)
    loss = (nn.functional.cross_entropy(out, t) if task == "classification"
            else nn.functional.mse_loss(out, t))
    names = [name for name, _ in model.named_parameters()]
    grads = torch.autograd.grad(loss, list(model.parameters()))
    return dict(zip(names, grads, strict=True))


@dataclass(frozen=True)
class LayerActivity:
    """What one activation layer did over all the data."""

    name: str
    kind: str
    mean: float
    std: float
    #: ReLU: units that output 0 for every sample (no gradient reaches their weights).
    dead_units: int
    #: Tanh/Sigmoid: the share of outputs near the bounds, where the slope is almost 0.
    saturated: float
    units: int


def activation_stats(model: nn.Sequential, inputs: torch.Tensor,
                     params: dict[str, torch.Tensor] | None = None) -> tuple[LayerActivity, ...]:
    """Each activation layer's outputs over ``inputs``, read through forward hooks.

    With ``params`` the model runs on those values instead of its own (a captured state).
    """
    seen: dict[str, torch.Tensor] = {}
    handles = []
    for name, module in model.named_children():
        if type(module) in _DERIVATIVE:
            def keep(_module: nn.Module, _args: object, output: torch.Tensor,
                     name: str = name) -> None:
                seen[name] = output.detach()
            handles.append(module.register_forward_hook(keep))
    try:
        with measuring(model):
            if params is None:
                model(inputs)
            else:
                functional_call(model, params, (inputs,))
    finally:
        for handle in handles:
            handle.remove()
    stats = []
    for name, output in seen.items():
        kind = type(dict(model.named_children())[name]).__name__
        if kind == "ReLU":
            dead, saturated = int((output.amax(dim=0) <= 0).sum()), 0.0
        else:
            low, high = (-SATURATED, SATURATED) if kind == "Tanh" else (1 - SATURATED, SATURATED)
            dead = 0
            saturated = float(((output <= low) | (output >= high)).float().mean())
        stats.append(LayerActivity(name=f"layer {name} ({kind})", kind=kind,
                                   mean=float(output.mean()), std=float(output.std()),
                                   dead_units=dead, saturated=saturated,
                                   units=int(output.shape[1])))
    return tuple(stats)

"""One-line, plain-language accounts of what a stage did, chosen from what PyTorch reported.

The session decides *which* situation happened by looking at real tensors and real errors;
this module only holds the words, so they can be read and reworded in one place.
"""

from __future__ import annotations

from gui_trainer.core.optimizers import Options
from gui_trainer.core.records import ParamValues


def _grads(params: ParamValues) -> str:
    return "weight.grad and bias.grad" if params.one_neuron else "every parameter's .grad"


def zero_grad(before: ParamValues, set_to_none: bool) -> str:
    how = "set to None" if set_to_none else "filled with 0.0"
    if not before.has_grads():
        return f"There were no gradients yet: {_grads(before)} stay None ({how} mode)."
    return (
        f"Old gradients cleared: {_grads(before)} {'are' if before.one_neuron else 'is'} "
        f"{how}, so the next backward starts fresh instead of adding to them."
    )


def forward(had_loss: bool, free: bool, one_neuron: bool = True) -> str:
    computed = ("weight × input + bias for every input" if one_neuron
                else "its layers on every input, one after the other")
    text = (
        f"The model computed {computed}, and PyTorch recorded "
        "the operations in a graph for backward."
    )
    if had_loss and free:
        text += " The old loss still measures the previous outputs until Loss runs again."
    return text


def loss(value: float, task: str = "regression") -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return (
            f"The loss is {value}: the updates overshot and the numbers blew up. "
            "Lower the learning rate and reset or rewind."
        )
    if task == "classification":
        return (
            "Cross-entropy loss: for each sample, −log of the probability softmax gives the "
            "right class, averaged — one number saying how wrong the model is."
        )
    return (
        "MSE loss: the mean of the squared differences between predictions and targets — "
        "one number saying how wrong the model is."
    )


def micro_batch(chunk: int, count: int) -> str:
    return f"Micro-batch {chunk + 1} of {count}."


NO_OUTPUTS = "There are no predictions to measure yet: run Forward before Loss."
NO_LOSS = "There is no loss yet, so there is nothing to backpropagate: run Forward and Loss first."
FREED_GRAPH = (
    "PyTorch freed this graph's saved values after the first backward, so it cannot go back "
    "through it again. Run Forward and Loss to build a new graph."
)


def backward(before: ParamValues, stale: bool, chunk: int = 0, count: int = 1,
             one_neuron: bool = True) -> str:
    parts = []
    if count > 1:
        done = chunk + 1
        if done == 1:
            return f"Micro-batch 1 of {count}: its gradient is stored in .grad."
        return (
            f"Micro-batch {done} of {count}: its gradient was added to .grad on purpose"
            + (" — .grad now holds the full-batch gradient, ready for Step."
               if done == count else ".")
        )
    if stale:
        parts.append(
            "This loss was computed from earlier outputs (Forward ran after Loss), so backward "
            "goes through that earlier graph."
        )
    if before.nonzero_grads():
        parts.append(
            "Zero Grad was skipped: the new gradients were ADDED to the old ones, so .grad now "
            "holds their sum, not this step's gradient."
        )
    else:
        parts.append(
            "Autograd walked the graph in reverse and stored ∂loss/∂weight and ∂loss/∂bias in "
            "weight.grad and bias.grad." if one_neuron else
            "Autograd walked the graph in reverse, layer by layer, and stored ∂loss/∂p in "
            "each parameter's .grad."
        )
    return " ".join(parts)


def step(before: ParamValues, after: ParamValues, optimizer: str,
         options: Options = (), lr: float | None = None) -> str:
    if not before.has_grads():
        return (
            "No gradients to follow (.grad is None): the optimizer left every parameter as it was."
        )
    if before.same_values(after):
        if lr == 0:  # a schedule may take it there (cosine to eta_min=0)
            return "The learning rate is 0 for this step, so the step changed nothing."
        if before.nonzero_grads():  # a converged model: the update is below float32's step
            return ("The step changed nothing: the gradients are not zero, but each update is "
                    "smaller than the gap between the float32 numbers next to the old "
                    "value, so every parameter rounded back to what it was.")
        return "Every gradient is zero, so the step changed nothing."
    given = dict(options)
    decay = " (its gradient plus weight_decay × p)" if given.get("weight_decay") else ""
    if optimizer == "sgd":
        if given.get("momentum"):
            return ("SGD with momentum moved each parameter against its momentum buffer: "
                    f"momentum × the last buffer plus this gradient{decay}, times lr.")
        if decay:
            return ("Each parameter moved against its gradient plus weight_decay × p: "
                    "new = old − lr × (grad + weight_decay × p).")
        return "Each parameter moved against its gradient: new = old − lr × grad."
    if optimizer == "rmsprop":
        return ("RMSprop divided each gradient by the root of its running mean square, so "
                "every parameter moved about lr, whatever its gradient's size.")
    if optimizer == "adagrad":
        return ("Adagrad divided each gradient by the root of the sum of all its squared "
                "gradients so far: the steps shrink as that sum grows.")
    if optimizer == "adamw":
        return ("AdamW shrank each weight by lr × weight_decay × p, then moved it as Adam "
                "does, using running averages of its gradients.")
    return "Adam moved each parameter using running averages of its gradients."


def softmax_loss(loss: float, reference: float) -> str:
    return (f"Loss = CrossEntropyLoss(softmax(outputs), targets) = {loss:.4g}: the loss "
            "applies log-softmax itself, so the probabilities were squashed a second time. On "
            f"the outputs themselves it would be {reference:.4g}.")


#: BatchNorm's refusal of a one-row batch in train mode (its text in PyTorch's error).
ONE_ROW_BATCH_NORM = "Expected more than 1 value per channel when training"


def error(stage: str, text: str) -> str:
    if "backward through the graph a second time" in text:
        return FREED_GRAPH
    if ONE_ROW_BATCH_NORM in text:
        return ("BatchNorm in train mode normalises each unit by the batch's own mean and "
                "spread, and one row has no spread: PyTorch refuses. Use batches of two rows "
                "or more (or drop_last, if only the last batch has one row); in eval mode "
                "the running averages stand in and one row is fine. No weight changed (the "
                "first BatchNorm layer had already counted the batch in "
                "num_batches_tracked).")
    if stage == "schedule":
        return ("PyTorch raised an error in scheduler.step(); the weights are unchanged, but "
                "the scheduler counted the call.")
    return f"PyTorch raised an error during {stage}; the session is unchanged."


# -- the optional stages --------------------------------------------------------------------
NO_CLIP = ("Clipping is off (clip_max_norm is None): set a maximum norm in the settings to "
           "clip the gradients between Backward and Step.")
NO_SCHEDULER = "There is no scheduler: choose one in the settings for scheduler.step() to run."
NO_PLATEAU_METRIC = ("ReduceLROnPlateau needs a loss to watch: run Evaluate (or a Step) "
                     "first.")
NO_VALIDATION = ("This scenario has no validation split: there is nothing held out to "
                 "evaluate on.")


def clip(total_norm: float, max_norm: float) -> str:
    if total_norm != total_norm:
        return ("The gradients' total norm is NaN: clip_grad_norm_ cannot rescue them; lower "
                "the learning rate.")
    if total_norm <= max_norm:
        return (f"The gradients' total norm was {total_norm:.4g}, within max_norm "
                f"{max_norm:g}: clip_grad_norm_ left them as they were.")
    return (f"The gradients' total norm was {total_norm:.4g}, above max_norm {max_norm:g}: "
            f"clip_grad_norm_ scaled every .grad by {max_norm / total_norm:.4g}, so their "
            "direction is kept and the step is shorter.")


def schedule(name: str, lr_before: float, lr_after: float, metric: float | None) -> str:
    watched = f" (it watched a loss of {metric:.4g})" if metric is not None else ""
    if lr_after == lr_before:
        return (f"{name}.step(){watched}: the learning rate stays {lr_after:.4g} for the next "
                "step.")
    return (f"{name}.step(){watched}: the learning rate went from {lr_before:.4g} to "
            f"{lr_after:.4g}; the next optimizer step uses it.")


def evaluate(val_loss: float, accuracy: float | None, rows: int, model_eval: bool = True,
             no_grad: bool = True, nodes: int = 0, dropout: bool = False,
             batch_norm: bool = False) -> str:
    measured = f"loss {val_loss:.4g}" + (f", accuracy {accuracy:.1%}" if accuracy is not None
                                         else "")
    if model_eval and no_grad:
        return (f"On the {rows} held-out validation rows: {measured}. model.eval() switched "
                "dropout off and BatchNorm to its running averages, torch.no_grad() recorded "
                "no graph, and model.train() switched training back on; the weights and .grad "
                "are untouched.")
    text = f"On the {rows} held-out validation rows: {measured}."
    if not model_eval:
        layers = [*(["dropout drew a mask"] if dropout else []),
                  *(["BatchNorm used these rows' statistics and moved its running averages"]
                    if batch_norm else [])]
        text += (" Without model.eval() the model stayed in train mode"
                 + (": " + " and ".join(layers) + ", so this is not the model's real "
                    "validation loss." if layers else
                    " (no dropout or BatchNorm here, so the number is the same)."))
    if not no_grad:
        text += (f" Without torch.no_grad() autograd recorded a graph of {nodes} nodes for a "
                 "loss nobody will backpropagate: memory and time spent for nothing.")
    return text

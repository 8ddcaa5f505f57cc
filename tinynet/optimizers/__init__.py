"""Optimizers: turn gradients into weight updates.

An optimizer sees arrays, not layers. A compiled model keeps all its trainable weights in ONE
flat vector, so a training step is one call, `optimizer.apply(params, grads)`, and each rule
below is its textbook lines applied to the whole vector (in pieces, which changes no number:
see CHUNK). `apply` also takes lists of arrays (for a hand-written loop): each position then
gets its own state (Adam's m and v, SGD's velocity), created on the first call and matched by
position, so pass the lists in the same order every time.

learning_rate is a float >= 0 (0 freezes every weight, as Keras allows), or a schedule from
tinynet.optimizers.schedules (a function of the step count) evaluated before every update, as
in Keras. A callback may assign a new float to `optimizer.learning_rate` between steps.

`get_config()` gives Keras's dict of an optimizer's settings and `Class.from_config(config)`
builds it again (from Keras's dict too).
"""

import functools
import math
import numbers
import operator
import warnings

import numpy as np

from tinynet.config import floatx
from tinynet.validation import (
    check_bool,
    check_float,
    missing_attribute,
    snake_case,
    unknown_name_error,
)
from tinynet.variables import Variable

# Arguments every Keras 3 optimizer takes that tinynet's do not, with what they are for: the
# signature of BaseOptimizer.__init__ in Keras 3.15's source (keras/src/optimizers/
# base_optimizer.py) and the keras.optimizers.Adam page of the Keras API docs.
KERAS_ONLY = {
    "weight_decay": "weight decay in every optimizer",
    "use_ema": "an exponential moving average of "
    "the weights", "ema_momentum": "an exponential moving average of the weights",
    "ema_overwrite_frequency": "an exponential moving average of the weights",
    "loss_scale_factor": "mixed-precision loss scaling",
    "gradient_accumulation_steps": "gradient accumulation",
}
# What Keras 3.15's get_config writes for each of them when it is off (its defaults: keras.
# optimizers.Adam().get_config() in Keras 3.15.1). tinynet's get_config writes the same, and
# from_config drops a setting that has this value (any other value gets KERAS_ONLY's error).
KERAS_ONLY_OFF = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}


# The rules below are elementwise: each number's new value depends only on its own gradient
# and state. So a long vector may be updated piece by piece, and it is: written as its formula
# reads, each line makes temporary arrays as long as the vector, 400 KB for the 100,000
# float32 weights of the MNIST network, and the C library can hand freed blocks that large
# back to the operating system; then every step pays again for fresh memory (measured in a
# fresh process: 261 page faults and 1.57 ms a step, against none and 1.03 ms in pieces; see
# benchmarks/README.md). Pieces of CHUNK numbers make temporaries of 64 KB (128 KB in
# float64) that are reused from step to step and stay in the cache. The numbers are the same,
# bit for bit; setting optimizers.CHUNK to a huge number turns the pieces off.
CHUNK = 16384


def pieces(param):
    """Slices cutting a 1-D array (a model's vector, or a vector passed by hand) into
    consecutive pieces of at most CHUNK numbers (none for an empty vector); an array of any
    other shape is one piece, the whole array."""
    if param.ndim != 1:
        return [...]
    return [slice(start, start + CHUNK) for start in range(0, len(param), CHUNK)]


def elementwise(update):
    """Marks an update rule as elementwise and runs it piece by piece (see CHUNK): the rule is
    called once per piece with views of param, grad and each slot (a new slots dict, without
    'shape'). Mark a rule of your own only if each number's update reads nothing but its own
    gradient and state and changes nothing else (a counter kept on self would count pieces,
    not steps; a norm over grad would be a piece's norm). Unmarked, a rule sees the whole
    vector once a step."""

    @functools.wraps(update)
    def update_in_pieces(self, param, grad, slots, learning_rate):
        for part in pieces(param):
            views = {name: value[part] for name, value in slots.items()}
            state = dict(views)
            update(self, param[part], grad[part], state, learning_rate)
            keep_assigned_state(views, state)

    return update_in_pieces


def keep_assigned_state(views, state):
    """A rule may assign its state anew (slots['m'] = ...) instead of writing into it: such an
    array is copied into the optimizer's state, where the next step finds it."""
    for name, value in state.items():
        if name not in views:
            raise TypeError(f"an update rule created the slot {name!r}; create every slot "
                            f"in create_slots(param), e.g. {{{name!r}: np.zeros_like(param)}}")
        if value is not views[name]:
            views[name][...] = value


class LearningRate(float):
    """What `optimizer.learning_rate` gives: the learning rate as a float, which also answers
    the methods of Keras's learning-rate variable that tutorials call:

        optimizer.learning_rate.assign(1e-5)   # the same as optimizer.learning_rate = 1e-5
        optimizer.learning_rate.numpy()        # array(1e-05, dtype=float32): Keras keeps the
                                               # rate in floatx(), float32 by default
        optimizer.learning_rate.value          # the float

    It is the rate when it was read: after assign, read optimizer.learning_rate again (in
    Keras the variable itself would show the new value)."""

    def __new__(cls, value, optimizer=None):
        rate = super().__new__(cls, value)
        rate.optimizer = optimizer
        return rate

    def assign(self, value):
        """Set the optimizer's learning rate (TypeError when it follows a schedule); returns
        the new rate, as Keras's assign does."""
        if self.optimizer is None:
            raise TypeError("LearningRate.assign: this rate belongs to no optimizer; set "
                            "optimizer.learning_rate = value instead")
        self.optimizer.learning_rate = value
        return self.optimizer.learning_rate

    def numpy(self):
        return np.asarray(self, dtype=floatx())

    def __reduce__(self):  # pickled or copied, it is the number alone, not its optimizer
        return float, (float(self),)

    # compared as Keras compares its variable, in floatx(): SGD(0.1).learning_rate == 0.1 is
    # True, > 0.1 False, though the float read from float32 is 0.10000000149011612
    def compare(self, other, test):
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            return NotImplemented
        with np.errstate(over="ignore"):  # 1e300 is inf in float32, and compares as such
            return bool(test(np.asarray(self, floatx()), np.asarray(other, floatx())))

    def __eq__(self, other):
        return self.compare(other, operator.eq)

    def __ne__(self, other):
        return self.compare(other, operator.ne)

    def __lt__(self, other):
        return self.compare(other, operator.lt)

    def __le__(self, other):
        return self.compare(other, operator.le)

    def __gt__(self, other):
        return self.compare(other, operator.gt)

    def __ge__(self, other):
        return self.compare(other, operator.ge)

    # unhashable, as Keras's variable is: equal in float32 to 0.1, it could not hash as 0.1
    __hash__ = None

    @property
    def value(self):
        return float(self)


class Optimizer:
    """Base class: subclasses define create_slots(param) and update(param, grad, slots, lr).

    create_slots(param) returns every slot of state one parameter array needs, {name: array
    shaped like param} (Adam: m and v); a counter belongs in self.iterations, which apply
    counts. update(param, grad, slots, learning_rate) is called once per step for each array
    given to apply (for a model: once, with its whole vector); it changes param in place
    (param -= ...) and either writes into its slots' arrays (m += ...) or assigns them anew
    (slots['m'] = ...). The built-in rules are marked @elementwise, which runs them piece by
    piece (see CHUNK and elementwise).
    """

    def __init__(self, learning_rate, **unknown):
        where = f"{type(self).__name__}"
        if "lr" in unknown:
            raise TypeError(f"{where}(lr=...): the argument is called learning_rate in Keras 3 "
                            f"and tinynet, e.g. {where}(learning_rate=0.001)")
        if unknown.pop("decay", None) is not None:
            # Keras 2's time-based decay, lr / (1 + decay * iterations): Keras 3 ignores it
            # with a warning, and so does tinynet, so that the numbers agree
            warnings.warn(f"{where}(decay=...): Keras 2's learning-rate decay is ignored, as "
                          f"Keras 3 ignores it; for the same decay give a schedule, "
                          f"learning_rate=tinynet.optimizers.schedules.InverseTimeDecay("
                          f"initial_learning_rate, decay_steps=1, decay_rate=decay)",
                          UserWarning, stacklevel=3)
        self.clipnorm, self.clipvalue, self.global_clipnorm = check_clipping(
            where, *(unknown.pop(key, None) for key in CLIPPING))
        # Keras's default name: the class name in snake case ('adam', 'rm_sprop', 'adam_w');
        # Keras adds _1, _2, ... to the second, third... optimizer of a session, tinynet does not
        self.name = unknown.pop("name", None) or snake_case(type(self).__name__)
        # Keras code often spells out the "off" values (clipnorm=None, use_ema=False): they
        # change nothing, and are accepted
        unknown = {key: value for key, value in unknown.items()
                   if not (key in KERAS_ONLY_OFF and is_off_value(value, KERAS_ONLY_OFF[key]))}
        keras_only = sorted(set(unknown) & set(KERAS_ONLY))
        if keras_only:
            name = keras_only[0]
            advice = ("use AdamW(weight_decay=...), tinynet's optimizer with weight decay"
                      if name == "weight_decay" else "leave it out")
            raise TypeError(f"{where}({name}=...) is a Keras argument for {KERAS_ONLY[name]}, "
                            f"which tinynet does not have; {advice}")
        if unknown:
            raise TypeError(f"{where}() got unknown argument(s) {', '.join(unknown)}")
        self.iterations = 0  # number of updates applied so far
        self._learning_rate = None
        self.learning_rate = learning_rate  # a float, or a schedule (see the property)
        self.slots = None        # per parameter array, a dict of its state (Adam: m and v)
        self.slot_params = None  # the parameter arrays themselves, the state's owners
        # for apply_gradients with a model's weights (see follow_weights): where each weight
        # (id of its layer, its name) sits in the vector, its layer, and the state of weights
        # frozen since, with their layer
        self.weight_parts, self.weight_layers, self.parked_weights = None, {}, {}

    @property
    def learning_rate(self):
        """The learning rate of the next update, as Keras's optimizer.learning_rate gives it:
        a float rounded to floatx() (Keras keeps it in a float32 variable, so 0.1 reads
        0.10000000149011612), with the .assign(value) and .numpy() of that variable (a
        LearningRate). With a schedule, its value at this step (the schedule is `schedule`).
        The update itself uses the rate as given (current_learning_rate); the two differ by
        float32 round-off at most."""
        rate = float(np.asarray(self.current_learning_rate(), dtype=floatx()))
        return LearningRate(rate, self)

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):  # a schedule from tinynet.optimizers.schedules
            self._learning_rate = value
            return
        if self.schedule is not None:
            raise TypeError(f"{type(self).__name__}: this optimizer follows a learning-rate "
                            f"schedule ({type(self.schedule).__name__}), so its learning rate "
                            f"cannot be set to a number (Keras refuses too)")
        # 0 is allowed (Keras's SGD(learning_rate=0.0) trains nothing, and says nothing);
        # a negative rate would climb the loss, and NaN or inf would ruin every weight
        self._learning_rate = check_float(value, f"{type(self).__name__}(learning_rate=...)",
                                          low=0.0)

    @property
    def schedule(self):
        """The learning-rate schedule this optimizer follows, or None for a fixed rate."""
        return self._learning_rate if callable(self._learning_rate) else None

    def current_learning_rate(self):
        """The learning rate of the next update: the float, or the schedule at this step."""
        rate = self._learning_rate
        return check_scheduled_rate(self, rate(self.iterations)) if callable(rate) else rate

    def apply(self, params, grads, parts=None):
        """One update of every params[i] from grads[i], in place. params and grads: one array
        each (a model's flat vectors) or two lists of arrays of matching shapes. parts: for one
        vector that holds several weights (a model's), the slice of each, so that clipnorm
        clips each weight's gradient on its own, as Keras does (the whole vector otherwise)."""
        params, grads = as_list(params), as_list(grads)
        if self.slots is None:  # the first step: m, v, velocity... start at zero
            check_params_and_grads(self, params, grads)
            self.start_slots(params)
        # one cheap test for a model's vector (the very array the state was made for); lists
        # are checked array by array
        if not (len(params) == len(grads) == 1 and params[0] is self.slot_params[0]
                and getattr(grads[0], "shape", None) == params[0].shape):
            check_params_and_grads(self, params, grads)
        learning_rate = self.current_learning_rate()  # before the count: Keras's order
        self.iterations += 1
        if self.clipnorm or self.clipvalue or self.global_clipnorm:  # Keras's clipping, set
            grads = clip_gradients(self, grads, parts)                # and not 0: see there
        for param, grad, slots in zip(params, grads, self.slots, strict=True):
            # a built-in rule is @elementwise: update_in_pieces calls it once per CHUNK-long
            # piece of the vector, with views of param, grad and the slots
            self.update(param, grad, slots, learning_rate)

    def apply_gradients(self, grads_and_vars):
        """Keras's spelling of apply: optimizer.apply_gradients(zip(grads, weights)) updates
        each weight array in place from its gradient, as apply(weights, grads) does. The
        weights must be the arrays themselves (model.trainable_weights gives them), not
        copies. Returns None (Keras returns the iteration count as a variable)."""
        pairs = list(grads_and_vars)
        if not all(isinstance(pair, tuple) and len(pair) == 2 for pair in pairs):
            raise TypeError(f"{type(self).__name__}.apply_gradients: expected (gradient, "
                            f"weight) pairs, e.g. zip(grads, model.trainable_weights), got "
                            f"{[type(pair).__name__ for pair in pairs][:3]}")
        for grad, weight in pairs:
            if not isinstance(weight, np.ndarray) or not isinstance(grad, np.ndarray):
                raise TypeError(f"{type(self).__name__}.apply_gradients: each pair is "
                                f"(gradient, weight), two NumPy arrays (the weight is updated "
                                f"in place), got ({type(grad).__name__}, "
                                f"{type(weight).__name__})")
        if not pairs:  # nothing to train (every layer frozen): no step, as in Keras
            return None
        weights, grads = [weight for _, weight in pairs], [grad for grad, _ in pairs]
        if [grad.shape for grad in grads] != [weight.shape for weight in weights]:
            raise ValueError(f"{type(self).__name__}.apply_gradients: each gradient needs the "
                             f"shape of the weight it is paired with, "
                             f"{[weight.shape for weight in weights]}; got "
                             f"{[grad.shape for grad in grads]} (a gradient paired with "
                             f"another weight?)")
        vector = whole_vector(weights)
        if vector is not None:  # a compiled model's trainable_weights: its one flat vector
            self.follow_weights(vector, weights)
            self.apply(vector, np.concatenate([np.ravel(grad) for grad in grads]),
                       parts=consecutive_parts(weights))
        elif self.slot_params is not None and 0 < len(weights) < len(self.slot_params):
            self.apply_to_some(weights, grads)
        else:
            self.apply(weights, grads)
        apply_constraints(weights)

    def apply_to_some(self, weights, grads):
        """An update of some of the arrays this optimizer keeps state for (the layers of a
        model that is not compiled, some frozen since the first update), each with its own
        state, as Keras's optimizer updates a part of the weights it was built with. The
        others' state waits unchanged. Any array it has no state for is refused by apply."""
        positions = [next((i for i, owner in enumerate(self.slot_params)
                           if same_memory(weight, owner)), None) for weight in weights]
        if None in positions:
            return self.apply(weights, grads)  # refused there, with the reason
        every_slot, every_param = self.slots, self.slot_params
        self.slots = [every_slot[i] for i in positions]
        self.slot_params = [every_param[i] for i in positions]
        try:
            self.apply(weights, grads)
        finally:
            self.slots, self.slot_params = every_slot, every_param
        return None

    def follow_weights(self, vector, weights):
        """Keras keeps an optimizer's state per weight, so a loop of your own may freeze or
        unfreeze layers between updates. Here the model then lays its trainable weights out
        in a new vector; apply_gradients sees that vector come and moves the state to it,
        weight by weight (each weight knows its layer and name, w.layer and w.key): a weight
        that stays keeps its state, a frozen one's waits until it is unfrozen, a new one
        starts from create_slots. (The model's own optimizer has been moved already.)"""
        if not all(getattr(w, "layer", None) is not None for w in weights):
            return
        parts, start = {}, 0
        for w in weights:
            parts[(id(w.layer), w.key)] = slice(start, start + w.size)
            start += w.size
        old_parts = self.weight_parts
        if old_parts is not None and self.slots is not None and len(self.slots) == 1 \
                and self.slot_params[0] is not vector:
            old, fresh = self.slots[0], self.create_slots(vector)
            parked = self.parked_weights
            layers = {(id(w.layer), w.key): w.layer for w in weights}
            for key, part in old_parts.items():  # leaving: kept (with its layer) until back
                if key not in parts:
                    parked[key] = (self.weight_layers[key],
                                   {name: value[part].copy() for name, value in old.items()})
            for name, value in old.items():
                new = fresh[name] if name in fresh else np.zeros_like(vector)
                for key, part in parts.items():
                    if key in old_parts:
                        new[part] = value[old_parts[key]]
                    elif key in parked and parked[key][0] is layers[key]:  # ids are reused
                        new[part] = parked[key][1][name]
                fresh[name] = new
            self.slots, self.slot_params = [fresh], [vector]
        self.weight_parts = parts
        self.weight_layers = {(id(w.layer), w.key): w.layer for w in weights}

    def start_slots(self, params):
        """The state of a first step, one dict per parameter array, from create_slots."""
        self.slots = [self.create_slots(param) for param in params]
        self.slot_params = list(params)
        check_slots(self, params)

    @property
    def slot_shapes(self):
        """The shape of each parameter array the state is kept for (None before a step)."""
        return None if self.slot_params is None else [param.shape for param in self.slot_params]

    def reset(self):
        """Forget the per-parameter state (a model compiled again with other weights)."""
        self.slots = self.slot_params = None
        self.weight_parts, self.weight_layers, self.parked_weights = None, {}, {}

    def create_slots(self, param):
        return {}

    def update(self, param, grad, slots, learning_rate):
        raise NotImplementedError

    def __repr__(self):  # the rate as given, not as float32 reads it
        return f"{type(self).__name__}(learning_rate={self.schedule or self._learning_rate})"

    # -- Keras's config ------------------------------------------------------------------------

    config_keys = ()  # the settings a subclass adds to get_config, in Keras's order

    def get_config(self):
        """Keras's dict of this optimizer's settings, with Keras's keys in Keras's order: name,
        learning_rate, the settings tinynet lacks (KERAS_ONLY) at their "off" value, then the
        class's own (config_keys). learning_rate is the rate as Keras holds it, rounded to
        the float type of new weights (floatx: float32 unless set_floatx changed it), so
        Adam().get_config()["learning_rate"] is 0.0010000000474974513, as in Keras; a
        schedule is written as Keras writes one (schedules.serialize), and a function of your
        own that is not a LearningRateSchedule stays itself."""
        rate = self._learning_rate
        if isinstance(rate, schedules.LearningRateSchedule):
            rate = schedules.serialize(rate)
        elif not callable(rate):
            rate = float(np.asarray(rate, dtype=floatx()))
        config = {"name": self.name, "learning_rate": rate, **KERAS_ONLY_OFF,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                  "clipvalue": self.clipvalue}
        config.update({key: getattr(self, key) for key in self.config_keys})
        return config

    @classmethod
    def from_config(cls, config):
        """The optimizer a get_config() dict describes (tinynet's or Keras's), without its
        state: a Keras-only setting that is off is dropped, one that is on is refused."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        for key, off in KERAS_ONLY_OFF.items():
            if key in config and key not in cls.config_keys + CLIPPING and config[key] == off:
                del config[key]
        return cls(**config)


class SGD(Optimizer):
    """SGD(learning_rate=0.01, momentum=0.0, nesterov=False), as in Keras:

        velocity = momentum * velocity - learning_rate * g
        param   += velocity                                      (plain momentum)
        param   += momentum * velocity - learning_rate * g       (nesterov)

    With momentum 0 this is param -= learning_rate * g.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = check_float(momentum, "SGD(momentum=...)", 0.0, 1.0)
        self.nesterov = check_bool(nesterov, "SGD(nesterov=...)")

    config_keys = ("momentum", "nesterov")

    def create_slots(self, param):
        # Keras keeps a velocity only when momentum is used; so does tinynet
        return {"velocity": np.zeros_like(param)} if self.momentum > 0 else {}

    @elementwise
    def update(self, param, grad, slots, learning_rate):
        if self.momentum == 0:
            param -= learning_rate * grad
            return
        velocity = slots["velocity"]
        velocity[...] = self.momentum * velocity - learning_rate * grad
        if self.nesterov:
            param += self.momentum * velocity - learning_rate * grad
        else:
            param += velocity


class Adam(Optimizer):
    """Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False),
    Keras 3's rule.

    The textbook rule (Kingma and Ba 2015, "Adam: A Method for Stochastic Optimization",
    Algorithm 1), at step t = 1, 2, ... for every parameter with gradient g:

        m      = beta_1 * m + (1 - beta_1) * g       running mean of g    (m starts at 0)
        v      = beta_2 * v + (1 - beta_2) * g^2     running mean of g^2  (v starts at 0)
        m_hat  = m / (1 - beta_1^t)                  m and v start at zero, so early on they
        v_hat  = v / (1 - beta_2^t)                  underestimate; dividing undoes that
        param -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Keras 3 (and so tinynet) computes the same step with the two corrections folded into one
    number, the cheaper order the paper itself gives just before its section 2.1 (with its
    "epsilon hat"; TensorFlow's Adam is written this way too):

        m     += (1 - beta_1) * (g - m)              (the first line, rearranged)
        v     += (1 - beta_2) * (g*g - v)
        alpha  = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        param -= alpha * m / (sqrt(v) + epsilon)

    which is the textbook step with epsilon replaced by epsilon / sqrt(1 - beta_2^t): the two
    differ only where sqrt(v) is as small as epsilon (gradients near 1e-7), and there only in
    the first thousands of steps. (PyTorch adds epsilon to sqrt(v_hat), the textbook way, and
    defaults to 1e-8.)

    amsgrad=True (AMSGrad, Reddi et al. 2018, "On the Convergence of Adam and Beyond") divides
    by the largest v so far instead of v, so a weight's step never grows because its recent
    gradients got smaller:

        v_hat  = max(v_hat, v)                   (v_hat starts at 0; Keras's velocity_hat)
        param -= alpha * m / (sqrt(v_hat) + epsilon)

    as Keras 3 does it (keras/src/optimizers/adam.py): v itself stays the running mean.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = type(self).__name__
        self.beta_1 = check_float(beta_1, f"{where}(beta_1=...)", 0.0, 1.0, high_open=True)
        self.beta_2 = check_float(beta_2, f"{where}(beta_2=...)", 0.0, 1.0, high_open=True)
        self.epsilon = check_float(epsilon, f"{where}(epsilon=...)", low=0.0)
        self.amsgrad = check_bool(amsgrad, f"{where}(amsgrad=...)")

    config_keys = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def create_slots(self, param):
        slots = {"m": np.zeros_like(param), "v": np.zeros_like(param)}
        if self.amsgrad:
            slots["v_hat"] = np.zeros_like(param)
        return slots

    @elementwise
    def update(self, param, grad, slots, learning_rate):
        """One Adam step of param (any shape) in place, from grad (the same shape); slots holds
        m and v (the same shape). t = self.iterations, which apply counts up BEFORE calling
        update, so the first step has t = 1. The first two lines are m = beta_1 m +
        (1 - beta_1) g and v = beta_2 v + (1 - beta_2) g^2, rearranged to update in place."""
        # Python floats times float32 arrays stay float32, so the step keeps the model's dtype
        m, v, t = slots["m"], slots["v"], self.iterations
        m += (1 - self.beta_1) * (grad - m)
        v += (1 - self.beta_2) * (grad * grad - v)
        if self.amsgrad:  # v_hat = max(v_hat, v), written into v_hat; then divide by it
            v = np.maximum(slots["v_hat"], v, out=slots["v_hat"])
        alpha = learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        param -= alpha * m / (np.sqrt(v) + self.epsilon)


class AdamW(Adam):
    """AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False): Adam with decoupled weight decay (Loshchilov & Hutter 2019), Keras 3's rule:

        param *= 1 - learning_rate * weight_decay     shrink every weight first
        then Adam's step above, from the gradient of the loss alone

    "Decoupled": the decay is not added to the gradient (that would be L2 regularization, which
    Adam's division by sqrt(v) would rescale weight by weight); every weight shrinks by the same
    fraction. Like Keras, it decays every trainable weight, biases and BN's gamma and beta too.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, **kwargs)
        self.weight_decay = check_float(weight_decay, "AdamW(weight_decay=...)", low=0.0)

    config_keys = ("weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad")

    def update(self, param, grad, slots, learning_rate):
        param *= 1 - learning_rate * self.weight_decay
        super().update(param, grad, slots, learning_rate)


class RMSprop(Optimizer):
    """RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False), as in
    Keras 3. For every parameter with gradient g:

        v      = rho * v + (1 - rho) * g^2              running mean of g^2 (starts at 0)
        step   = learning_rate * g / sqrt(v + epsilon)
        param -= step                                   (momentum = 0)

    centered=True also keeps mg = rho * mg + (1 - rho) * g and divides by sqrt(v - mg^2 +
    epsilon), an estimate of g's variance. With momentum: velocity = momentum * velocity +
    step; param -= velocity. (Epsilon sits inside the square root, unlike Adam's.)
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = check_float(rho, "RMSprop(rho=...)", 0.0, 1.0)
        self.momentum = check_float(momentum, "RMSprop(momentum=...)", 0.0, 1.0)
        self.epsilon = check_float(epsilon, "RMSprop(epsilon=...)", low=0.0)
        self.centered = check_bool(centered, "RMSprop(centered=...)")

    config_keys = ("rho", "momentum", "epsilon", "centered")

    def create_slots(self, param):
        slots = {"v": np.zeros_like(param)}
        if self.centered:
            slots["mg"] = np.zeros_like(param)
        if self.momentum > 0:
            slots["velocity"] = np.zeros_like(param)
        return slots

    @elementwise
    def update(self, param, grad, slots, learning_rate):
        v = slots["v"]
        v[...] = self.rho * v + (1 - self.rho) * grad * grad
        if self.centered:
            mg = slots["mg"]
            mg[...] = self.rho * mg + (1 - self.rho) * grad
            step = learning_rate * grad / np.sqrt(v - mg * mg + self.epsilon)
        else:
            step = learning_rate * grad / np.sqrt(v + self.epsilon)
        if self.momentum > 0:
            velocity = slots["velocity"]
            velocity[...] = self.momentum * velocity + step
            step = velocity
        param -= step


class Adagrad(Optimizer):
    """Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7), as in Keras 3:

        accumulator += g^2                              (starts at initial_accumulator_value)
        param       -= learning_rate * g / sqrt(accumulator + epsilon)

    Each weight's steps shrink as its squared gradients add up: weights with rare, large
    gradients keep larger steps than weights that are pushed at every step.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = check_float(
            initial_accumulator_value, "Adagrad(initial_accumulator_value=...)", low=0.0)
        self.epsilon = check_float(epsilon, "Adagrad(epsilon=...)", low=0.0)

    config_keys = ("initial_accumulator_value", "epsilon")

    def create_slots(self, param):
        return {"accumulator": np.full_like(param, self.initial_accumulator_value)}

    @elementwise
    def update(self, param, grad, slots, learning_rate):
        accumulator = slots["accumulator"]
        accumulator += grad * grad
        param -= learning_rate * grad / np.sqrt(accumulator + self.epsilon)


# The defaults above are Keras 3.15's, checked against its source (keras-team/keras,
# keras/src/optimizers/{adamw,rmsprop,adagrad}.py) and the API pages on keras.io
# (optimizers/adamw, optimizers/rmsprop) and tensorflow.org (tf.keras.optimizers.Adagrad).
def check_scheduled_rate(optimizer, value):
    """What a schedule gave for this step, as a float: a finite number >= 0 (a schedule of
    your own, lambda step: 0.1 - 1e-4 * step, turns negative after 1000 steps; a negative
    rate would climb the loss)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    schedule = getattr(optimizer._learning_rate, "__name__", None) or \
        type(optimizer._learning_rate).__name__
    return check_float(value, f"{type(optimizer).__name__}: the learning-rate schedule "
                              f"{schedule} at step {optimizer.iterations}", low=0.0)


CLIPPING = ("clipnorm", "clipvalue", "global_clipnorm")  # Keras's order in the signature


def check_clipping(where, clipnorm, clipvalue, global_clipnorm):
    """Keras's gradient-clipping settings, each None (off) or a number >= 0 (0 is off too, as
    Keras treats it); at most one of them, as Keras requires."""
    values = [None if value is None else
              check_float(value, f"{where}({name}=...)", low=0.0)
              for name, value in zip(CLIPPING, (clipnorm, clipvalue, global_clipnorm),
                                     strict=True)]
    given = [name for name, value in zip(CLIPPING, values, strict=True) if value is not None]
    if len(given) > 1:
        raise ValueError(f"{where}: only one of clipnorm, clipvalue and global_clipnorm can be "
                         f"set (as in Keras), got {' and '.join(given)}")
    return values


def clip_gradients(optimizer, grads, parts=None):
    """The gradients clipped as Keras 3.15's optimizer clips them (base_optimizer.py,
    _clip_gradients), before the update; new arrays (the ones given are left as they are):

        clipnorm=c          each weight's gradient g -> g * c / max(||g||, c): its norm at
                            most c (parts: the slices of the weights in one vector)
        global_clipnorm=c   every gradient times min(c / ||all of them||, 1): their joint
                            norm at most c (NaN if that norm is not finite, as in Keras)
        clipvalue=v         each number clipped to [-v, v]
    """
    if optimizer.clipnorm:
        pieces = parts if parts is not None and len(grads) == 1 else None
        return [clip_by_norm(grad, optimizer.clipnorm, pieces) for grad in grads]
    if optimizer.global_clipnorm:
        # the squared norms summed in the gradients' float type, as Keras sums them
        norm = float(np.sqrt(np.sum([np.sum(np.square(grad)) for grad in grads])))
        scale = min(optimizer.global_clipnorm / norm, 1.0) + (norm - norm) if norm else 1.0
        return [grad * grad.dtype.type(scale) for grad in grads]
    if optimizer.clipvalue:
        return [np.clip(grad, -optimizer.clipvalue, optimizer.clipvalue).astype(grad.dtype)
                for grad in grads]
    return grads


def clip_by_norm(grad, clipnorm, pieces=None):
    """g * clipnorm / max(||g||, clipnorm), for the whole array or for each of its pieces."""
    clipped = np.array(grad)
    for piece in pieces or [...]:
        norm = np.sqrt(np.sum(np.square(clipped[piece])))
        clipped[piece] = clipped[piece] * clipnorm / max(norm, clipnorm)
    return clipped


def apply_constraints(weights):
    """After apply_gradients' update, as Keras's optimizer does: each weight that is a layer's
    Variable (model.trainable_weights) and has a constraint (kernel_constraint=MaxNorm(3)) is
    projected back into the set the constraint allows, in place (tinynet.constraints)."""
    for weight in weights:
        layer, key = getattr(weight, "layer", None), getattr(weight, "key", None)
        if layer is not None and key in getattr(layer, "constraints", {}):
            layer.params[key][...] = layer.constrained(key)


def as_list(arrays):
    """One array -> [array]; a list or tuple of arrays stays as it is."""
    return [arrays] if isinstance(arrays, np.ndarray) else list(arrays)


def check_slots(optimizer, params):
    """create_slots must give arrays shaped like their parameter: a model saves them, carries
    them over when a layer is frozen, and an @elementwise rule cuts them like the weights."""
    for param, slots in zip(params, optimizer.slots, strict=True):
        for name, value in slots.items():
            if getattr(value, "shape", None) != param.shape:
                raise TypeError(
                    f"{type(optimizer).__name__}.create_slots must return arrays shaped like "
                    f"the parameter {param.shape}, e.g. np.zeros_like(param); slot {name!r} "
                    f"is {getattr(value, 'shape', type(value).__name__)}. Keep a step counter "
                    f"in self.iterations (apply counts it) or another attribute of self")


def is_off_value(value, off):
    """value is Keras's "off" value for a setting (None, False, 0.99), a bool never standing
    for a number."""
    return type(value) is type(off) and value == off


def is_weight(array):
    """Whether an array is a layer's weight as model.trainable_weights and layer.kernel give
    it (a tinynet.variables.Variable of a layer)."""
    return isinstance(array, Variable) and array.layer is not None


def same_memory(array, other):
    """Whether two arrays are the same numbers in memory: the same array, or two views of it
    (model.trainable_weights gives new views at each call, of the same weights)."""
    return array is other or (
        array.__array_interface__["data"][0] == other.__array_interface__["data"][0]
        and array.shape == other.shape and array.strides == other.strides
        and array.dtype == other.dtype)


def memory_owner(array):
    """The array whose memory `array` is a view of (NumPy's base, followed to its end; a
    Variable is a view of a view), or the array itself when it owns its memory."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def consecutive_parts(arrays):
    """The slice of each array in one vector that holds them end to end (whole_vector)."""
    ends = np.cumsum([0, *(array.size for array in arrays)])
    return [slice(int(start), int(end)) for start, end in zip(ends[:-1], ends[1:], strict=True)]


def whole_vector(arrays):
    """The 1-D array that `arrays` are consecutive views of, end to end, covering all of it
    (a compiled model's trainable_weights are such views of model.parameters), or None. The
    optimizer then updates that vector, so that its state is the one fit keeps too."""
    base = memory_owner(arrays[0]) if arrays else None
    if base is None or base is arrays[0] or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address, start = base.__array_interface__["data"][0], 0
    for array in arrays:
        if memory_owner(array) is not base or not array.flags.c_contiguous or \
                array.__array_interface__["data"][0] != address + start * base.itemsize:
            return None
        start += array.size
    return base if start == base.size else None


def check_params_and_grads(optimizer, params, grads):
    """params: float arrays that can be written into (the update is in place); grads: arrays
    of the same shapes; and, once the optimizer has state (Adam's m and v), the very arrays it
    was made for: one optimizer shared by two sets of weights would mix their state."""
    where = f"{type(optimizer).__name__}.apply"
    for i, param in enumerate(params):
        if not (isinstance(param, np.ndarray) and param.dtype.kind == "f"):
            got = f"an array of {param.dtype}" if isinstance(param, np.ndarray) else \
                f"a {type(param).__name__}"
            raise TypeError(f"{where}: each parameter must be a float NumPy array, which the "
                            f"update changes in place; parameter {i} is {got}")
        if not param.flags.writeable:
            raise ValueError(f"{where}: parameter {i} is read-only, so it cannot be updated in "
                             f"place; pass the weight arrays themselves (model.trainable_"
                             f"weights, or layer.params[...])")
    for i, grad in enumerate(grads):
        if not isinstance(grad, np.ndarray):
            raise TypeError(f"{where}: each gradient must be a NumPy array, gradient {i} is a "
                            f"{type(grad).__name__}")
    if (len(params) > 1 and whole_vector(grads) is not None and whole_vector(params) is None) \
            or (any(is_weight(g) for g in grads) and not any(is_weight(p) for p in params)):
        # apply(grads, model.trainable_weights), Keras 3's order: it would update the
        # gradients, silently, and leave the weights as they are
        raise TypeError(f"{type(optimizer).__name__}.apply(params, grads) takes the weights "
                        f"first and their gradients second; the second argument here holds "
                        f"a model's weights (Keras 3's optimizer.apply takes grads first). "
                        f"Write optimizer.apply(weights, grads), or Keras's "
                        f"optimizer.apply_gradients(zip(grads, weights))")
    if [np.shape(g) for g in grads] != [p.shape for p in params]:
        raise ValueError(f"{type(optimizer).__name__}.apply: each gradient needs the shape of "
                         f"its parameter, {[p.shape for p in params]}; got "
                         f"{[np.shape(g) for g in grads]}")
    owners = optimizer.slot_params
    if owners is not None and (len(owners) != len(params) or not all(
            same_memory(p, q) for p, q in zip(params, owners, strict=True))):
        # as Keras 3 refuses variables its optimizer was not built with
        state = ", ".join(["its step count", *sorted(optimizer.slots[0])])
        raise ValueError(f"{where}: this optimizer keeps its state ({state}) for the "
                         f"{len(owners)} parameter array(s) of its first update, "
                         f"of shapes {optimizer.slot_shapes}, and got other arrays (shapes "
                         f"{[p.shape for p in params]}). Pass the same arrays at every update, "
                         f"all in one call (optimizer.apply([w1, w2], [g1, g2]), as a model "
                         f"does), and use a new optimizer for other weights (or compile again)")


OPTIMIZERS = {"adam": Adam, "sgd": SGD, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}
# Keras 3.15's other optimizers (keras.optimizers.get accepts each class name in any case),
# which tinynet does not have.
KERAS_ONLY_OPTIMIZERS = ("Adadelta", "Adafactor", "Adamax", "Ftrl", "Lion", "Muon", "Nadam",
                         "ScheduleFreeAdamW")


def keras_only_optimizer_error(name):
    """The error for a Keras optimizer tinynet lacks ('nadam', Nadam): it says so and lists
    tinynet's."""
    has = ", ".join(cls.__name__ for cls in OPTIMIZERS.values())
    return ValueError(f"{name!r} is a Keras optimizer that tinynet does not have; tinynet has "
                      f"{has} (by name: {', '.join(OPTIMIZERS)})")


def get(identifier):
    """An Optimizer from a name ('adam', 'sgd', 'adamw', 'rmsprop', 'adagrad', or Keras's class
    names such as 'RMSprop', in any case, as Keras takes them; default settings), a class or
    an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in (name.lower() for name in KERAS_ONLY_OPTIMIZERS):
            raise keras_only_optimizer_error(identifier)
        if key not in OPTIMIZERS:
            raise unknown_name_error("optimizer", identifier, OPTIMIZERS)
        return OPTIMIZERS[key]()
    raise TypeError(f"optimizer must be a name like 'adam' or an Optimizer, got {identifier!r}")


def __getattr__(name):
    """A Keras optimizer tinynet lacks (optimizers.Nadam) gets an error that says so."""
    hints = {cls: "a Keras optimizer tinynet does not have" for cls in KERAS_ONLY_OPTIMIZERS}
    raise missing_attribute("tinynet.optimizers", name,
                            [cls.__name__ for cls in OPTIMIZERS.values()]
                            + ["Optimizer", "get", "schedules"],
                            hints)


# tinynet.optimizers.schedules, reachable as an attribute too (keras.optimizers.schedules...)
from tinynet.optimizers import schedules as schedules  # noqa: E402

"""Lessons from the course as presets: a configuration plus what to look at."""

LESSONS = [
    {"id": "perceptron-xor", "title": "A perceptron cannot learn XOR",
     "text": "No hidden layer: the model is one weighted sum and a sigmoid, so its boundary is a "
             "straight line. XOR needs two lines. Press Play: test accuracy stays near 50 %.",
     "config": {"dataset": "xor", "noise": 0.0, "features": ["x1", "x2"], "hidden": [],
                "activation": "linear", "optimizer": "adam", "lr": 0.03, "batch_size": 10,
                "regularization": "none", "reg_rate": 0.0, "dropout": 0.0, "seed": 1}},
    {"id": "hidden-xor", "title": "One hidden layer can",
     "text": "Four tanh neurons in one hidden layer. Each draws its own line (look at their "
             "pictures); the output neuron combines them into the XOR pattern.",
     "config": {"dataset": "xor", "noise": 0.0, "features": ["x1", "x2"], "hidden": [4],
                "activation": "tanh", "optimizer": "adam", "lr": 0.03, "batch_size": 10,
                "regularization": "none", "reg_rate": 0.0, "dropout": 0.0, "seed": 1}},
    {"id": "vanishing", "title": "Vanishing gradients with deep sigmoid nets",
     "text": "Eight sigmoid layers trained with plain SGD. Watch the gradient bars: each layer "
             "multiplies the gradient by sigmoid' <= 0.25, so the first layers barely learn. "
             "Switch the activation to ReLU and compare.",
     "config": {"dataset": "circles", "noise": 0.0, "features": ["x1", "x2"], "hidden": [6] * 8,
                "activation": "sigmoid", "optimizer": "sgd", "lr": 0.3, "batch_size": 10,
                "regularization": "none", "reg_rate": 0.0, "dropout": 0.0, "seed": 1}},
    {"id": "overfitting", "title": "Overfitting",
     "text": "Few noisy training points and a big network: the training loss keeps falling while "
             "the test loss climbs: the network memorises noisy points instead of the two blobs.",
     "config": {"dataset": "gauss", "noise": 0.35, "train_ratio": 0.2, "features": ["x1", "x2", "x1^2", "x2^2", "x1x2"],
                "hidden": [16, 16, 16], "activation": "relu", "optimizer": "adam", "lr": 0.03,
                "batch_size": 10, "regularization": "none", "reg_rate": 0.0, "dropout": 0.0, "seed": 1}},
    {"id": "regularised", "title": "... and L2 / dropout against it",
     "text": "The same data and network with an L2 penalty and dropout: the weights stay small, "
             "the boundary stays smooth, and the test loss no longer climbs.",
     "config": {"dataset": "gauss", "noise": 0.35, "train_ratio": 0.2, "features": ["x1", "x2", "x1^2", "x2^2", "x1x2"],
                "hidden": [16, 16, 16], "activation": "relu", "optimizer": "adam", "lr": 0.03,
                "batch_size": 10, "regularization": "l2", "reg_rate": 0.003, "dropout": 0.2, "seed": 1}},
    {"id": "lr-too-high", "title": "Learning rate too high",
     "text": "SGD with a learning rate of 10: each step jumps past the minimum, so the loss curve "
             "jumps about instead of falling. Set the rate to 0.1: training restarts and the loss falls smoothly.",
     "config": {"dataset": "circles", "noise": 0.1, "features": ["x1", "x2"], "hidden": [8, 8],
                "activation": "tanh", "optimizer": "sgd", "lr": 10.0, "batch_size": 10,
                "regularization": "none", "reg_rate": 0.0, "dropout": 0.0, "seed": 1}},
    {"id": "spiral", "title": "The spiral",
     "text": "The hardest 2-D set. Two tanh layers of 12 with sine features learn it in a few "
             "seconds; try it with x1, x2 only and a deeper network.",
     "config": {"dataset": "spiral", "noise": 0.0, "train_ratio": 0.5, "features": ["x1", "x2", "sin(x1)", "sin(x2)"],
                "hidden": [12, 12], "activation": "tanh", "optimizer": "adam", "lr": 0.01,
                "batch_size": 16, "regularization": "none", "reg_rate": 0.0, "dropout": 0.0, "seed": 1}},
    {"id": "digits", "title": "Handwritten digits",
     "text": "14 x 14 digits from the MNIST subset that ships with dalam. Each first-layer neuron's "
             "picture is its weights over the pixels: the strokes it looks for.",
     "config": {"dataset": "digits", "noise": 0.0, "hidden": [16], "activation": "relu",
                "optimizer": "adam", "lr": 0.003, "batch_size": 32, "regularization": "none",
                "reg_rate": 0.0, "dropout": 0.0, "seed": 1}},
]
BY_ID = {lesson["id"]: lesson for lesson in LESSONS}

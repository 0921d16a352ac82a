# Data loading, batching, train / evaluate, learning curves and run logs,
# Fall 2025 layout: typed batching, optional log files, curves under plots/.
import os
import time
import numpy as np
import random
import matplotlib.pyplot as plt
from jaxtyping import Float, Int  # type: ignore


def load_csv(path):
    """
    Read an MNIST CSV file (label, then 784 pixel values 0-255 per line).
    :param path: the path of the csv file
    :return:
        data: a list with one list of 784 floats in [0, 1] per image
        labels: a list of int labels
    """
    data = []
    labels = []
    with open(path, "r") as handle:
        for line in handle.readlines():
            fields = line.rstrip().split(",")
            labels.append(int(fields[0]))
            data.append([int(value) / 255 for value in fields[1:]])
    return data, labels


def load_mnist_trainval():
    """
    Load the MNIST training file and split it in order: the first 80% to
    train, the last 20% to validate; no shuffling.

    :return:
        train_data, train_label, val_data, val_label (lists)
    """
    print("Loading training data...")
    data, label = load_csv("./data/mnist_train.csv")
    assert len(data) == len(label)
    print("Training data loaded with {count} images".format(count=len(data)))

    train_data = None
    train_label = None
    val_data = None
    val_label = None

    ### TODO: BEGIN SOLUTION ###
    raise NotImplementedError('TODO: Implement this function')
    ### END SOLUTION ###

    return train_data, train_label, val_data, val_label


def load_mnist_test():
    """
    Load the MNIST test file.
    :return: data, label (lists)
    """
    print("Loading testing data...")
    data, label = load_csv("./data/mnist_test.csv")
    assert len(data) == len(label)
    print("Testing data loaded with {count} images".format(count=len(data)))

    return data, label


def generate_batched_data(
    data: list[list[float]],
    label: list[int],
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
) -> tuple[
    list[Float[np.ndarray, "batch_size 784"]], list[Int[np.ndarray, "batch_size"]]
]:
    """
    Cut the data into batches of batch_size (the last may be smaller), after
    shuffling data and labels together when shuffle is True.

        Notes:
        1) every batch must be a NumPy array
        2) shuffle with random.shuffle, not np.random.shuffle
        3) data and labels must be shuffled the same way

    :param data: a list of images, each a list of 784 pixel values
    :param label: a list of labels
    :param batch_size: the batch size
    :param shuffle: whether to shuffle (training) or not (evaluation)
    :param seed: optional seed of the random module
    :return:
        batched_data: a list of NumPy arrays (batch_size, 784)
        batched_label: a list of NumPy arrays (batch_size,)
    """
    batched_data = None
    batched_label = None
    if seed is not None:
        random.seed(seed)
    ### TODO: BEGIN SOLUTION ###
    raise NotImplementedError('TODO: Implement this function')
    ### END SOLUTION ###

    return batched_data, batched_label


def _log(message, log_file):
    # One line to the log file when there is one, else to the console.
    if log_file:
        log_file.write(message + "\n")
        log_file.flush()
    else:
        print(message)


def train(
    epoch,
    batched_train_data,
    batched_train_label,
    model,
    optimizer,
    debug=True,
    log_file=None,
):
    """
    Train the model for one epoch.
    :param debug: whether to log every tenth batch
    :param log_file: an open file to log to instead of the console
    :return:
        epoch_loss: the mean batch loss of the epoch
        epoch_acc: the accuracy over the epoch's images
    """
    epoch_loss = 0.0
    hits = 0
    count_samples = 0.0
    for idx, (input, target) in enumerate(zip(batched_train_data, batched_train_label)):
        loss, accuracy = model.forward(input, target)

        optimizer.update(model)
        epoch_loss += loss
        hits += accuracy * input.shape[0]
        count_samples += input.shape[0]

        if idx % 10 == 0 and debug:
            _log(f"Epoch: [{epoch}][{idx}/{len(batched_train_data)}]\tBatch Loss {loss:.4f}"
                 f"\tTrain Accuracy {accuracy:.4f}", log_file)
    epoch_loss /= len(batched_train_data)
    epoch_acc = hits / count_samples

    if debug:
        _log(f"* Average Accuracy of Epoch {epoch} is: {epoch_acc:.4f}", log_file)
    return epoch_loss, epoch_acc


def evaluate(batched_test_data, batched_test_label, model, debug=True, log_file=None):
    """
    Evaluate the model (forward passes in 'valid' mode, no update).
    :return:
        epoch_loss: the mean batch loss
        epoch_acc: the accuracy over every image
    """
    epoch_loss = 0.0
    hits = 0
    count_samples = 0.0
    for idx, (input, target) in enumerate(zip(batched_test_data, batched_test_label)):
        loss, accuracy = model.forward(input, target, mode="valid")

        epoch_loss += loss
        hits += accuracy * input.shape[0]
        count_samples += input.shape[0]
        if debug:
            _log(f"Evaluate: [{idx}/{len(batched_test_data)}]\tBatch Accuracy {accuracy:.4f}",
                 log_file)
    epoch_loss /= len(batched_test_data)
    epoch_acc = hits / count_samples

    return epoch_loss, epoch_acc


def plot_curves(
    train_loss_history,
    train_acc_history,
    valid_loss_history,
    valid_acc_history,
    run_name=None,
    save_only=False,
):
    """
    Learning curves: training and validation loss in one figure, training and
    validation accuracy in another.

    :param run_name: names the saved files plots/<run_name>_{loss,accuracy}.png
                     and the titles; nothing is saved without it
    :param save_only: save without showing
    :return: None
    """
    epochs = range(len(train_loss_history))
    os.makedirs("plots", exist_ok=True)

    def one_figure(train_values, valid_values, quantity, suffix):
        plt.figure(figsize=(10, 6))
        plt.plot(epochs, train_values, label="train", marker="o")
        plt.plot(epochs, valid_values, label="valid", marker="s")
        plt.xlabel("Epochs")
        plt.ylabel(quantity)
        plt.legend()
        plt.title(f"{quantity} Curve - {run_name}" if run_name else f"{quantity} Curve")
        plt.grid(True, alpha=0.3)
        if run_name:
            path = f"plots/{run_name}_{suffix}.png"
            plt.savefig(path, dpi=150, bbox_inches="tight")
            print(f"{quantity} plot saved to: {path}")
        if not save_only:
            plt.show()
        plt.close()

    one_figure(train_loss_history, valid_loss_history, "Loss", "loss")
    one_figure(train_acc_history, valid_acc_history, "Accuracy", "accuracy")


def load_training_logs(run_name):
    """
    The results recorded by write_training_log for a run.
    :param run_name: the name of the run
    :return: a dict of the run's results
    """
    import json

    path = f"plots/{run_name}.log"
    if not os.path.exists(path):
        raise FileNotFoundError(f"Log file not found: {path}")
    with open(path, "r") as handle:
        for line in handle:
            if line.startswith("RESULTS:"):
                return json.loads(line[len("RESULTS:"):])
    raise ValueError(f"No results found in log file: {path}")


def display_training_plots(run_name):
    """
    Show a run's summary and saved curves in a notebook.
    :param run_name: the name of the run
    """
    from IPython.display import Image, display

    try:
        results = load_training_logs(run_name)
        print(f"Run: {run_name}")
        print(f"Test Accuracy: {results['test_accuracy']:.4f}")
        print(f"Best Validation Accuracy: {results['best_validation_accuracy']:.4f}")
    except (FileNotFoundError, ValueError) as err:
        print(f"Could not load training summary: {err}")
    for kind in ("loss", "accuracy"):
        path = f"plots/{run_name}_{kind}.png"
        if os.path.exists(path):
            display(Image(path))
        else:
            print(f"{kind} plot not found: {path}")


def write_training_log(
    run_name,
    train_loss_history,
    train_acc_history,
    valid_loss_history,
    valid_acc_history,
    test_accuracy,
    best_validation_accuracy,
    config,
):
    """
    Record a run: one CSV row per epoch, the final accuracies, and a
    RESULTS: line of JSON that load_training_logs reads back.
    """
    import json
    from datetime import datetime

    os.makedirs("plots", exist_ok=True)
    path = f"plots/{run_name}.log"
    with open(path, "w") as handle:
        handle.write(f"Training Log for: {run_name}\n")
        handle.write(f"Timestamp: {datetime.now().isoformat()}\n")
        handle.write("Epoch,Train_Loss,Train_Acc,Valid_Loss,Valid_Acc\n")
        rows = zip(train_loss_history, train_acc_history, valid_loss_history, valid_acc_history)
        for epoch, (tl, ta, vl, va) in enumerate(rows):
            handle.write(f"{epoch},{tl:.6f},{ta:.6f},{vl:.6f},{va:.6f}\n")
        results = {"train_loss_history": train_loss_history,
                   "train_acc_history": train_acc_history,
                   "valid_loss_history": valid_loss_history,
                   "valid_acc_history": valid_acc_history,
                   "test_accuracy": test_accuracy,
                   "best_validation_accuracy": best_validation_accuracy,
                   "config": config, "run_name": run_name}
        handle.write(f"RESULTS:{json.dumps(results)}\n")
    print(f"Training log saved to: {path}")

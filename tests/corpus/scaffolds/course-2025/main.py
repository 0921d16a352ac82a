# Training driver, Fall 2025 layout: python main.py --config configs/<name>.yaml [--run-name NAME]
import argparse
import copy

import yaml

from models import TwoLayerNet, SoftmaxRegression
from optimizer import SGD
from utils import (load_mnist_trainval, load_mnist_test, generate_batched_data, train,
                   evaluate, plot_curves, write_training_log)

parser = argparse.ArgumentParser(description="MNIST from scratch: assignment 1")
parser.add_argument("--config", default="./config.yaml")
parser.add_argument("--run-name", default=None)


def main():
    args = parser.parse_args()
    with open(args.config) as handle:
        config = yaml.safe_load(handle)
    settings = {key: value for section in config.values() for key, value in section.items()}

    train_data, train_label, val_data, val_label = load_mnist_trainval()
    test_data, test_label = load_mnist_test()
    if settings["type"] == "SoftmaxRegression":
        model = SoftmaxRegression()
    else:
        model = TwoLayerNet(hidden_size=settings["hidden_size"])
    optimizer = SGD(learning_rate=settings["learning_rate"], reg=settings["reg"])

    history = {"train_loss": [], "train_acc": [], "valid_loss": [], "valid_acc": []}
    best_acc, best_model = 0.0, None
    for epoch in range(settings["epochs"]):
        batches = generate_batched_data(train_data, train_label,
                                        batch_size=settings["batch_size"], shuffle=True)
        loss, acc = train(epoch, *batches, model, optimizer, settings["debug"])
        history["train_loss"].append(loss)
        history["train_acc"].append(acc)
        val_batches = generate_batched_data(val_data, val_label,
                                            batch_size=settings["batch_size"])
        loss, acc = evaluate(*val_batches, model, settings["debug"])
        history["valid_loss"].append(loss)
        history["valid_acc"].append(acc)
        if acc > best_acc:
            best_acc, best_model = acc, copy.deepcopy(model)

    test_batches = generate_batched_data(test_data, test_label,
                                         batch_size=settings["batch_size"])
    _, test_acc = evaluate(*test_batches, best_model)
    print("Final Accuracy on Test Data: {accuracy:.4f}".format(accuracy=test_acc))
    plot_curves(history["train_loss"], history["train_acc"], history["valid_loss"],
                history["valid_acc"], run_name=args.run_name, save_only=bool(args.run_name))
    if args.run_name:
        write_training_log(args.run_name, history["train_loss"], history["train_acc"],
                           history["valid_loss"], history["valid_acc"], test_acc, best_acc,
                           settings)


if __name__ == "__main__":
    main()

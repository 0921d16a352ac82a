""" 		 	  			 	 	  		 
Homework 1 template code: neural networks from scratch on MNIST.

This file is part of the handout. Do not share your completed version
publicly.

-----do not edit anything above this line---
"""

import time
import random

import numpy as np
import matplotlib.pyplot as plt


def load_csv(path):
    """
    Read an MNIST CSV file: one image per line, the label first and then the
    784 pixel values (integers 0-255), comma separated, no header.
    :param path: the path of the csv file
    :return:
        data: a list with one list of 784 floats in [0, 1] per image
        labels: a list of int labels
    """
    data = []
    labels = []
    with open(path, 'r') as handle:
        for line in handle:
            fields = line.rstrip().split(',')
            labels.append(int(fields[0]))
            data.append([int(value) / 255 for value in fields[1:]])
    return data, labels


def load_mnist_trainval():
    """
    Load ./data/mnist_train.csv and split it, without shuffling, into the first
    80% for training and the last 20% for validation.
    :return: train_data, train_label, val_data, val_label (Python lists)
    """
    print("Loading training data...")
    data, label = load_csv('./data/mnist_train.csv')
    assert len(data) == len(label)
    print("Training data loaded with {count} images".format(count=len(data)))

    train_data = None
    train_label = None
    val_data = None
    val_label = None
    #############################################################################
    # TODO:                                                                     #
    #    1) Split the training data: the first 80% to train, the last 20% to    #
    #       validate. Note: do not shuffle here                                 #
    #############################################################################


    #############################################################################
    #                              END OF YOUR CODE                             #
    #############################################################################
    return train_data, train_label, val_data, val_label


def load_mnist_test():
    """
    Load ./data/mnist_test.csv.
    :return: data, label (Python lists)
    """
    print("Loading testing data...")
    data, label = load_csv('./data/mnist_test.csv')
    assert len(data) == len(label)
    print("Testing data loaded with {count} images".format(count=len(data)))
    return data, label


def generate_batched_data(data, label, batch_size=32, shuffle=False, seed=None):
    """
    Turn the data into batches, shuffled first when asked.
    :param data: a list of images, each a list of 784 pixel values
    :param label: a list of labels
    :param batch_size: the number of images per batch
    :param shuffle: whether to shuffle the data (True for training)
    :param seed: the seed of the random generator
    :return:
        batched_data: (List[np.ndarray]) the batches of images
        batched_label: (List[np.ndarray]) the batches of labels
    """
    batched_data = []
    batched_label = []
    if seed:
        random.seed(seed)

    #############################################################################
    # TODO:                                                                     #
    #    1) Shuffle data and label together if shuffle=True                     #
    #       To match the expected output, use random.shuffle(), not numpy       #
    #    2) Cut them into batches of batch_size; the last batch may be          #
    #       smaller                                                             #
    #############################################################################


    #############################################################################
    #                              END OF YOUR CODE                             #
    #############################################################################
    return batched_data, batched_label


def train(epoch, batched_train_data, batched_train_label, model, optimizer, debug=True):
    """
    Train the model for one epoch: a forward pass (default mode, which is
    'train') and an optimizer step per batch.
    :return:
        epoch_loss: the mean of the batch losses
        epoch_acc: the accuracy over every image of the epoch
    """
    epoch_loss = 0.0
    hits = 0
    count_samples = 0.0
    n_batches = len(batched_train_data)
    for idx, (batch, target) in enumerate(zip(batched_train_data, batched_train_label)):
        started = time.time()
        loss, accuracy = model.forward(batch, target)
        optimizer.update(model)

        epoch_loss += loss
        hits += accuracy * batch.shape[0]
        count_samples += batch.shape[0]

        elapsed = time.time() - started
        if idx % 10 == 0 and debug:
            print('Epoch: [{}][{}/{}]\tBatch Time {:.3f} \tBatch Loss {:.4f}\t'
                  'Train Accuracy {:.4f}\t'.format(epoch, idx, n_batches, elapsed,
                                                  loss, accuracy))
    epoch_loss /= n_batches
    epoch_acc = hits / count_samples

    if debug:
        print("* Average Accuracy of Epoch {} is: {:.4f}".format(epoch, epoch_acc))
    return epoch_loss, epoch_acc


def evaluate(batched_test_data, batched_test_label, model, debug=True):
    """
    Evaluate the model (forward passes with mode='valid', no optimizer step).
    :return:
        epoch_loss: the mean of the batch losses
        epoch_acc: the accuracy over every image
    """
    epoch_loss = 0.0
    hits = 0
    count_samples = 0.0
    n_batches = len(batched_test_data)
    for idx, (batch, target) in enumerate(zip(batched_test_data, batched_test_label)):
        loss, accuracy = model.forward(batch, target, mode='valid')

        epoch_loss += loss
        hits += accuracy * batch.shape[0]
        count_samples += batch.shape[0]
        if debug:
            print('Evaluate: [{}/{}]\tBatch Accuracy {:.4f}\t'.format(idx, n_batches, accuracy))
    epoch_loss /= n_batches
    epoch_acc = hits / count_samples

    return epoch_loss, epoch_acc


def plot_curves(train_loss_history, train_acc_history, valid_loss_history, valid_acc_history):
    """
    Plot the learning curves: the training and validation loss in one figure,
    the training and validation accuracy in another.
    :param train_loss_history: the training loss of each epoch
    :param train_acc_history: the training accuracy of each epoch
    :param valid_loss_history: the validation loss of each epoch
    :param valid_acc_history: the validation accuracy of each epoch
    :return: None, save two figures in the current directory
    """
    #############################################################################
    # TODO:                                                                     #
    #    1) Plot the training and validation loss in one figure                 #
    #    2) Plot the training and validation accuracy in another                #
    #############################################################################


    #############################################################################
    #                              END OF YOUR CODE                             #
    #############################################################################

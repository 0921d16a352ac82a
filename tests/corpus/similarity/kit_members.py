"""Five kit-style students, written independently: the solutions with every region rewritten.

    from kit_members import STUDENTS, write
    write(folder, 'ana')   # a package folder: the kit's submitted files, ana's code

Each student fills every TODO region of the kit's stubs in a style of their
own (loops or vectorised, einsum or @, clip or epsilon, one figure or two),
keeping the prompt comments as a student who filled in the stub would. The
code outside the regions is the solutions', i.e. the stubs' scaffold.
"""
import ast
import textwrap
from pathlib import Path

from autograder.authoring.stubs import _enclosing_names, solution_regions

KIT = Path(__file__).resolve().parents[3]
SOLUTIONS = KIT / 'solutions'

# Independent implementations of every solution region, one style per student.
# Each body replaces the region's code (the prompt comments stay, as a student
# who filled in the stub would leave them).
ANA = {
    '_baseNetwork.softmax': """
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        exps = np.exp(shifted)
        totals = np.sum(exps, axis=1, keepdims=True)
        prob = exps / totals
    """,
    '_baseNetwork.cross_entropy_loss': """
        n = len(y)
        total = 0.0
        for i in range(n):
            p = max(x_pred[i][y[i]], 1e-300)
            total -= np.log(p)
        loss = total / n
    """,
    '_baseNetwork.compute_accuracy': """
        correct = 0
        for row, label in zip(x_pred, y):
            if np.argmax(row) == label:
                correct += 1
        acc = correct / len(y)
    """,
    '_baseNetwork.sigmoid': """
        X = np.asarray(X)
        out = np.empty_like(X)
        pos = X >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-X[pos]))
        e = np.exp(X[~pos])
        out[~pos] = e / (1.0 + e)
    """,
    '_baseNetwork.sigmoid_dev': """
        sig = self.sigmoid(x)
        ds = sig - sig ** 2
    """,
    '_baseNetwork.ReLU': """
        out = X * (X > 0)
    """,
    '_baseNetwork.ReLU_dev': """
        X = np.asarray(X)
        out = np.where(X > 0, 1, 0).astype(X.dtype)
    """,
    'SoftmaxRegression.forward': """
        W = self.weights['W1']
        N = X.shape[0]
        scores = np.dot(X, W)
        activated = self.ReLU(scores)
        probs = self.softmax(activated)
        loss = self.cross_entropy_loss(probs, y)
        accuracy = self.compute_accuracy(probs, y)
        if mode == 'train':
            onehot = np.zeros_like(probs)
            onehot[np.arange(N), y] = 1
            d_act = (probs - onehot) / N
            d_scores = d_act * self.ReLU_dev(scores)
            self.gradients['W1'] = np.dot(X.T, d_scores)
    """,
    'TwoLayerNet.forward': """
        N = X.shape[0]
        h_in = np.dot(X, self.weights['W1']) + self.weights['b1']
        h_out = self.sigmoid(h_in)
        logits = np.dot(h_out, self.weights['W2']) + self.weights['b2']
        probs = self.softmax(logits)
        loss = self.cross_entropy_loss(probs, y)
        accuracy = self.compute_accuracy(probs, y)
        if mode == 'train':
            onehot = np.zeros_like(probs)
            onehot[np.arange(N), y] = 1
            d_logits = (probs - onehot) / N
            self.gradients['W2'] = np.dot(h_out.T, d_logits)
            self.gradients['b2'] = np.sum(d_logits, axis=0)
            d_hidden = np.dot(d_logits, self.weights['W2'].T) * self.sigmoid_dev(h_in)
            self.gradients['W1'] = np.dot(X.T, d_hidden)
            self.gradients['b1'] = np.sum(d_hidden, axis=0)
    """,
    '_BaseOptimizer.apply_regularization': """
        for key in model.weights:
            if key[0] == 'W':
                model.gradients[key] += self.reg * model.weights[key]
    """,
    'SGD.update': """
        self.apply_regularization(model)
        for key in model.weights:
            model.weights[key] = model.weights[key] - self.learning_rate * model.gradients[key]
    """,
    'load_mnist_trainval': """
        split = 48000
        train_data = images[:split]
        train_label = labels[:split]
        val_data = images[split:]
        val_label = labels[split:]
    """,
    'generate_batched_data': """
        data = np.array(data)
        label = np.array(label)
        indices = np.arange(len(data))
        if shuffle:
            rng = np.random.default_rng(seed)
            rng.shuffle(indices)
        batched_data = []
        batched_label = []
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
            batched_data.append(data[chunk])
            batched_label.append(label[chunk])
    """,
    'plot_curves': """
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        epochs = np.arange(1, len(train_loss_history) + 1)
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes[0].plot(epochs, train_loss_history, label='train')
        axes[0].plot(epochs, valid_loss_history, label='valid')
        axes[0].set_xlabel('epoch')
        axes[0].set_ylabel('loss')
        axes[0].set_title('Loss')
        axes[0].legend()
        axes[1].plot(epochs, train_acc_history, label='train')
        axes[1].plot(epochs, valid_acc_history, label='valid')
        axes[1].set_xlabel('epoch')
        axes[1].set_ylabel('accuracy')
        axes[1].set_title('Accuracy')
        axes[1].legend()
        if save_path is not None:
            fig.savefig(save_path)
    """,
}

BEN = {
    '_baseNetwork.softmax': """
        e = np.exp(scores - scores.max(1)[:, None])
        prob = e / e.sum(1)[:, None]
    """,
    '_baseNetwork.cross_entropy_loss': """
        p = np.clip(x_pred[range(len(y)), y], 1e-12, None)
        loss = float(-np.log(p).mean())
    """,
    '_baseNetwork.compute_accuracy': """
        acc = float((x_pred.argmax(1) == y).mean())
    """,
    '_baseNetwork.sigmoid': """
        out = 0.5 * (1 + np.tanh(0.5 * X))
    """,
    '_baseNetwork.sigmoid_dev': """
        ds = self.sigmoid(x) * (1 - self.sigmoid(x))
    """,
    '_baseNetwork.ReLU': """
        out = np.clip(X, 0, None)
    """,
    '_baseNetwork.ReLU_dev': """
        out = (X > 0) * np.ones_like(X)
    """,
    'SoftmaxRegression.forward': """
        z = X @ self.weights['W1']
        a = self.ReLU(z)
        p = self.softmax(a)
        loss, accuracy = self.cross_entropy_loss(p, y), self.compute_accuracy(p, y)
        if mode != 'train':
            return loss, accuracy
        g = p.copy()
        g[range(len(y)), y] -= 1
        g = g / len(y) * self.ReLU_dev(z)
        self.gradients['W1'] = X.T @ g
    """,
    'TwoLayerNet.forward': """
        W1, b1 = self.weights['W1'], self.weights['b1']
        W2, b2 = self.weights['W2'], self.weights['b2']
        z1 = X @ W1 + b1
        a1 = self.sigmoid(z1)
        z2 = a1 @ W2 + b2
        p = self.softmax(z2)
        loss, accuracy = self.cross_entropy_loss(p, y), self.compute_accuracy(p, y)
        if mode != 'train':
            return loss, accuracy
        g2 = p.copy()
        g2[range(len(y)), y] -= 1
        g2 /= len(y)
        g1 = (g2 @ W2.T) * self.sigmoid_dev(z1)
        self.gradients.update(W1=X.T @ g1, b1=g1.sum(0), W2=a1.T @ g2, b2=g2.sum(0))
    """,
    '_BaseOptimizer.apply_regularization': """
        weights = {k: w for k, w in model.weights.items() if k.startswith('W')}
        for k in weights:
            model.gradients[k] += self.reg * weights[k]
    """,
    'SGD.update': """
        self.apply_regularization(model)
        for k in model.weights:
            model.weights[k] -= self.learning_rate * model.gradients[k]
    """,
    'load_mnist_trainval': """
        cut = int(0.8 * len(images))
        train_data, val_data = images[:cut], images[cut:]
        train_label, val_label = labels[:cut], labels[cut:]
    """,
    'generate_batched_data': """
        data, label = np.asarray(data), np.asarray(label)
        if shuffle:
            perm = np.random.default_rng(seed).permutation(len(label))
            data, label = data[perm], label[perm]
        n_batches = int(np.ceil(len(label) / batch_size))
        batched_data = [data[b * batch_size:(b + 1) * batch_size] for b in range(n_batches)]
        batched_label = [label[b * batch_size:(b + 1) * batch_size] for b in range(n_batches)]
    """,
    'plot_curves': """
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(12, 5))
        plt.subplot(1, 2, 1)
        plt.plot(train_loss_history, label='training loss')
        plt.plot(valid_loss_history, label='validation loss')
        plt.xlabel('Epoch'); plt.ylabel('Loss'); plt.legend(); plt.title('Loss')
        plt.subplot(1, 2, 2)
        plt.plot(train_acc_history, label='training accuracy')
        plt.plot(valid_acc_history, label='validation accuracy')
        plt.xlabel('Epoch')
        plt.ylabel('Accuracy')
        plt.legend()
        plt.title('Accuracy')
        if save_path:
            plt.savefig(save_path)
    """,
}

CHLOE = {
    '_baseNetwork.softmax': """
        m = np.amax(scores, axis=-1, keepdims=True)
        unnorm = np.exp(np.subtract(scores, m))
        prob = unnorm / np.sum(unnorm, axis=-1, keepdims=True)
    """,
    '_baseNetwork.cross_entropy_loss': """
        probs = np.take_along_axis(x_pred, np.asarray(y).reshape(-1, 1), axis=1).ravel()
        probs = np.where(probs > 0, probs, np.finfo(float).tiny)
        loss = float(np.sum(-np.log(probs)) / probs.size)
    """,
    '_baseNetwork.compute_accuracy': """
        predictions = np.argmax(x_pred, axis=-1)
        acc = np.count_nonzero(predictions == y) / float(len(y))
    """,
    '_baseNetwork.sigmoid': """
        out = np.exp(-np.logaddexp(0, -X))
    """,
    '_baseNetwork.sigmoid_dev': """
        s = self.sigmoid(x)
        ds = np.multiply(s, np.subtract(1, s))
    """,
    '_baseNetwork.ReLU': """
        out = np.where(X > 0, X, 0)
    """,
    '_baseNetwork.ReLU_dev': """
        out = np.heaviside(X, 0).astype(np.asarray(X).dtype)
    """,
    'SoftmaxRegression.forward': """
        logits = np.einsum('nd,dc->nc', X, self.weights['W1'])
        hidden = np.maximum(logits, 0)
        probs = self.softmax(hidden)
        loss = self.cross_entropy_loss(probs, y)
        accuracy = self.compute_accuracy(probs, y)
        if mode == 'train':
            target = np.eye(self.num_classes)[y]
            delta = (probs - target) * (logits > 0) / X.shape[0]
            self.gradients['W1'] = np.einsum('nd,nc->dc', X, delta)
    """,
    'TwoLayerNet.forward': """
        def affine(inp, w, b):
            return np.einsum('ni,io->no', inp, self.weights[w]) + self.weights[b]

        pre = affine(X, 'W1', 'b1')
        hid = self.sigmoid(pre)
        probs = self.softmax(affine(hid, 'W2', 'b2'))
        loss = self.cross_entropy_loss(probs, y)
        accuracy = self.compute_accuracy(probs, y)
        if mode == 'train':
            target = np.eye(self.num_classes)[y]
            delta2 = (probs - target) / X.shape[0]
            delta1 = np.einsum('nc,hc->nh', delta2, self.weights['W2']) * hid * (1 - hid)
            self.gradients['W2'] = np.einsum('nh,nc->hc', hid, delta2)
            self.gradients['b2'] = delta2.sum(axis=0)
            self.gradients['W1'] = np.einsum('nd,nh->dh', X, delta1)
            self.gradients['b1'] = delta1.sum(axis=0)
    """,
    '_BaseOptimizer.apply_regularization': """
        model.gradients.update({name: model.gradients[name] + self.reg * model.weights[name]
                                for name in model.weights if name.startswith('W')})
    """,
    'SGD.update': """
        self.apply_regularization(model)
        model.weights.update({name: w - self.learning_rate * model.gradients[name]
                              for name, w in model.weights.items()})
    """,
    'load_mnist_trainval': """
        idx = np.arange(len(images))
        train_idx, val_idx = idx[idx < 48000], idx[idx >= 48000]
        train_data, train_label = images[train_idx], labels[train_idx]
        val_data, val_label = images[val_idx], labels[val_idx]
    """,
    'generate_batched_data': """
        data = np.asarray(data)
        label = np.asarray(label)
        order = np.arange(len(data))
        if shuffle:
            order = np.random.RandomState(seed).permutation(len(data))
        batched_data, batched_label = [], []
        start = 0
        while start < len(order):
            sel = order[start:start + batch_size]
            batched_data.append(data[sel])
            batched_label.append(label[sel])
            start += batch_size
    """,
    'plot_curves': """
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(11, 4))
        curves = {'Loss': (train_loss_history, valid_loss_history),
                  'Accuracy': (train_acc_history, valid_acc_history)}
        for position, (title, (tr, va)) in enumerate(curves.items(), start=1):
            ax = fig.add_subplot(1, 2, position)
            ax.plot(tr, '-o', label='train')
            ax.plot(va, '-s', label='validation')
            ax.set(xlabel='epoch', ylabel=title.lower(), title=title)
            ax.legend()
        if save_path is not None:
            fig.savefig(save_path)
    """,
}

DEV = {
    '_baseNetwork.softmax': """
        shift = scores - np.max(scores, axis=1)[:, np.newaxis]
        num = np.exp(shift)
        den = num.sum(axis=1)[:, np.newaxis]
        prob = num / den
    """,
    '_baseNetwork.cross_entropy_loss': """
        N = x_pred.shape[0]
        correct_probs = x_pred[np.arange(N), y]
        log_likelihood = -np.log(correct_probs + 1e-15)
        loss = np.sum(log_likelihood) / N
    """,
    '_baseNetwork.compute_accuracy': """
        acc = np.sum(np.argmax(x_pred, axis=1) == np.asarray(y)) / np.asarray(y).shape[0]
    """,
    '_baseNetwork.sigmoid': """
        X = np.asarray(X)
        small = np.exp(-np.abs(X))
        out = np.where(X >= 0, 1 / (1 + small), small / (1 + small))
    """,
    '_baseNetwork.sigmoid_dev': """
        ds = self.sigmoid(x)
        ds = ds * (1.0 - ds)
    """,
    '_baseNetwork.ReLU': """
        out = np.array(X, copy=True)
        out[out < 0] = 0
    """,
    '_baseNetwork.ReLU_dev': """
        out = np.zeros_like(X)
        out[X > 0] = 1
    """,
    'SoftmaxRegression.forward': """
        cache = {}
        cache['X'] = X
        cache['Z'] = X.dot(self.weights['W1'])
        cache['A'] = self.ReLU(cache['Z'])
        cache['P'] = self.softmax(cache['A'])
        loss = self.cross_entropy_loss(cache['P'], y)
        accuracy = self.compute_accuracy(cache['P'], y)
        if mode == 'train':
            batch = X.shape[0]
            dA = cache['P'].copy()
            dA[np.arange(batch), y] -= 1.0
            dZ = dA * self.ReLU_dev(cache['Z']) / batch
            self.gradients['W1'] = cache['X'].T.dot(dZ)
    """,
    'TwoLayerNet.forward': """
        batch = X.shape[0]
        Z1 = X.dot(self.weights['W1']) + self.weights['b1']
        A1 = self.sigmoid(Z1)
        Z2 = A1.dot(self.weights['W2']) + self.weights['b2']
        P = self.softmax(Z2)
        loss = self.cross_entropy_loss(P, y)
        accuracy = self.compute_accuracy(P, y)
        if mode == 'train':
            dZ2 = P.copy()
            dZ2[np.arange(batch), y] -= 1.0
            dZ2 = dZ2 / batch
            dA1 = dZ2.dot(self.weights['W2'].T)
            dZ1 = dA1 * self.sigmoid_dev(Z1)
            for name, grad in (('W2', A1.T.dot(dZ2)), ('b2', dZ2.sum(axis=0)),
                               ('W1', X.T.dot(dZ1)), ('b1', dZ1.sum(axis=0))):
                self.gradients[name] = grad
    """,
    '_BaseOptimizer.apply_regularization': """
        names = [n for n in model.weights.keys() if n.startswith('W')]
        for n in names:
            model.gradients[n] = self.reg * model.weights[n] + model.gradients[n]
    """,
    'SGD.update': """
        self.apply_regularization(model)
        lr = self.learning_rate
        for n, w in model.weights.items():
            w -= lr * model.gradients[n]
    """,
    'load_mnist_trainval': """
        train_data, val_data = np.split(images, [48000])
        train_label, val_label = np.split(labels, [48000])
    """,
    'generate_batched_data': """
        X = np.asarray(data)
        Y = np.asarray(label)
        if shuffle:
            rng = np.random.default_rng(seed)
            p = rng.permutation(X.shape[0])
            X = X[p]
            Y = Y[p]
        bounds = list(range(batch_size, X.shape[0], batch_size))
        batched_data = np.split(X, bounds)
        batched_label = np.split(Y, bounds)
    """,
    'plot_curves': """
        import matplotlib.pyplot as plt
        fig, (ax1, ax2) = plt.subplots(nrows=1, ncols=2, figsize=(12, 4))
        x = list(range(1, len(train_loss_history) + 1))
        ax1.plot(x, train_loss_history, color='tab:blue', label='train')
        ax1.plot(x, valid_loss_history, color='tab:orange', label='val')
        ax1.set_title('Loss curve')
        ax1.set_xlabel('Epochs')
        ax1.set_ylabel('Cross-entropy')
        ax1.legend(loc='upper right')
        ax2.plot(x, train_acc_history, color='tab:blue', label='train')
        ax2.plot(x, valid_acc_history, color='tab:orange', label='val')
        ax2.set_title('Accuracy curve')
        ax2.set_xlabel('Epochs')
        ax2.set_ylabel('Accuracy')
        ax2.legend(loc='lower right')
        fig.tight_layout()
        if save_path is not None:
            plt.savefig(save_path, dpi=80)
    """,
}

ELI = {
    '_baseNetwork.softmax': """
        out = []
        for row in scores:
            z = np.exp(row - row.max())
            out.append(z / z.sum())
        prob = np.vstack(out)
    """,
    '_baseNetwork.cross_entropy_loss': """
        eps = np.finfo(np.float64).tiny
        loss = 0.0
        for probs_i, label_i in zip(x_pred, y):
            loss += -np.log(max(probs_i[label_i], eps))
        loss /= len(y)
    """,
    '_baseNetwork.compute_accuracy': """
        hits = [int(np.argmax(p) == t) for p, t in zip(x_pred, y)]
        acc = sum(hits) / len(hits)
    """,
    '_baseNetwork.sigmoid': """
        X = np.clip(X, -500, 500)
        out = 1.0 / (1.0 + np.exp(-X))
    """,
    '_baseNetwork.sigmoid_dev': """
        s = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        ds = s * (1 - s)
    """,
    '_baseNetwork.ReLU': """
        out = np.maximum(0, X)
    """,
    '_baseNetwork.ReLU_dev': """
        out = np.greater(X, 0).astype(X.dtype)
    """,
    'SoftmaxRegression.forward': """
        X = X.astype(np.float64)
        Zs = np.matmul(X, self.weights['W1'])
        relu_out = self.ReLU(Zs)
        P = self.softmax(relu_out)
        loss = self.cross_entropy_loss(P, y)
        accuracy = self.compute_accuracy(P, y)
        if mode == 'train':
            Y = np.zeros(P.shape)
            for row, cls in enumerate(y):
                Y[row, cls] = 1.0
            grad = np.matmul(X.T, (P - Y) * self.ReLU_dev(Zs)) / len(X)
            self.gradients['W1'] = grad
    """,
    'TwoLayerNet.forward': """
        X = X.astype(np.float64)
        hidden_pre = np.matmul(X, self.weights['W1']) + self.weights['b1'][None, :]
        hidden = self.sigmoid(hidden_pre)
        out_pre = np.matmul(hidden, self.weights['W2']) + self.weights['b2'][None, :]
        P = self.softmax(out_pre)
        loss = self.cross_entropy_loss(P, y)
        accuracy = self.compute_accuracy(P, y)
        if mode == 'train':
            Y = np.zeros(P.shape)
            for row, cls in enumerate(y):
                Y[row, cls] = 1.0
            err_out = (P - Y) / len(X)
            err_hidden = np.matmul(err_out, self.weights['W2'].T) * self.sigmoid_dev(hidden_pre)
            self.gradients['W2'] = np.matmul(hidden.T, err_out)
            self.gradients['b2'] = np.sum(err_out, axis=0)
            self.gradients['W1'] = np.matmul(X.T, err_hidden)
            self.gradients['b1'] = np.sum(err_hidden, axis=0)
    """,
    '_BaseOptimizer.apply_regularization': """
        for key in sorted(model.weights):
            if not key.startswith('b'):
                model.gradients[key] = model.gradients[key] + model.weights[key] * self.reg
    """,
    'SGD.update': """
        self.apply_regularization(model)
        step = {k: self.learning_rate * g for k, g in model.gradients.items()}
        for k in model.weights:
            model.weights[k] = model.weights[k] - step[k]
    """,
    'load_mnist_trainval': """
        n_val = len(images) // 5
        n_train = len(images) - n_val
        train_data = images[0:n_train, :]
        train_label = labels[0:n_train]
        val_data = images[n_train:, :]
        val_label = labels[n_train:]
    """,
    'generate_batched_data': """
        data = np.array(data)
        label = np.array(label)
        if shuffle:
            state = np.random.default_rng(seed)
            idx = state.permutation(data.shape[0])
        else:
            idx = np.arange(data.shape[0])
        batched_data = []
        batched_label = []
        i = 0
        while i < data.shape[0]:
            batched_data.append(data[idx[i:i + batch_size]])
            batched_label.append(label[idx[i:i + batch_size]])
            i += batch_size
    """,
    'plot_curves': """
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(10, 4))
        left = fig.add_subplot(121)
        right = fig.add_subplot(122)
        left.plot(train_loss_history, marker='.', label='training')
        left.plot(valid_loss_history, marker='.', label='validation')
        left.set(title='loss', xlabel='epoch', ylabel='loss')
        left.legend()
        right.plot(train_acc_history, marker='.', label='training')
        right.plot(valid_acc_history, marker='.', label='validation')
        right.set(title='accuracy', xlabel='epoch', ylabel='accuracy')
        right.legend()
        if save_path is not None:
            fig.savefig(save_path, bbox_inches='tight')
    """,
}

STUDENTS = {'ana': ANA, 'ben': BEN, 'chloe': CHLOE, 'dev': DEV, 'eli': ELI}


def submitted_files():
    """The submitted paths the allowlist requires (student_version/submission_files.txt)."""
    listing = (KIT / 'student_version' / 'submission_files.txt').read_text().splitlines()
    paths = [line.split('#', 1)[0].strip() for line in listing]
    return [p for p in paths if p and not p.startswith('limit') and not any(c in p for c in '*?[')]


def replace_regions(rel, bodies):
    """The solutions file `rel` with each solution region's code replaced by bodies."""
    text = (SOLUTIONS / rel).read_text()
    lines = text.splitlines(keepends=True)
    names = _enclosing_names(ast.parse(text))
    out, last = [], 0
    for begin, end in solution_regions(text):
        body = bodies.get(names[begin + 1])
        if body is None:
            continue
        code = begin + 1
        while lines[code].lstrip().startswith('#'):
            code += 1  # keep the TODO prompt
        indent = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
        out.extend(lines[last:code])
        out.append(textwrap.indent(textwrap.dedent(body).strip('\n') + '\n', indent,
                                   lambda line: line.strip() != ''))
        last = end
    out.extend(lines[last:])
    return ''.join(out)


def write(folder, student, bodies=None):
    """Write the package folder of `student` (or of `bodies`, region name -> code); return it."""
    bodies = bodies if bodies is not None else STUDENTS[student]
    folder = Path(folder)
    for rel in submitted_files():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith('.py'):
            text = replace_regions(rel, bodies)
            compile(text, rel, 'exec')  # every fabricated submission is valid Python
            target.write_text(text)
        else:
            target.write_bytes((SOLUTIONS / rel).read_bytes())
    return folder

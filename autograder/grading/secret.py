"""The course's grading secret: hidden inputs and the training split's transform are drawn from it.

Hidden inputs are drawn per submission from the secret and the
submission's digest, so a submission that echoes its inputs learns nothing
another submission could use, and grading the same files again gives the
same inputs. The secret is $AUTOGRADER_SECRET when set (the same text on
every grading machine of a course), else 32 random bytes made once in the
judge's private cache (cache_dir()/secret, mode 0600). summary.json records
a fingerprint of it, never the secret.
"""
import hashlib
import os

from .. import paths


def load_secret():
    """The secret as bytes (created on first use)."""
    env = os.environ.get('AUTOGRADER_SECRET')
    if env:
        return env.encode()
    path = paths.cache_dir() / 'secret'
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f'.secret.{os.getpid()}')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(os.urandom(32))
    try:
        os.link(tmp, path)  # atomic: if another grader made one meanwhile, keep theirs
    except FileExistsError:
        pass
    os.unlink(tmp)
    return path.read_bytes()


def fingerprint(secret):
    """A short public name of the secret (two gradings with the same one agree)."""
    return hashlib.sha256(b'fingerprint\0' + secret).hexdigest()[:12]


def derived_seed(secret, *parts):
    """A 64-bit seed from the secret and some labels."""
    h = hashlib.sha256(secret)
    for part in parts:
        h.update(b'\0' + str(part).encode())
    return int.from_bytes(h.digest()[:8], 'little')

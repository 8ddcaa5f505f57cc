"""Writing files so that no work is ever lost.

Every file tinynet writes (weights, .keras models, backups, CSV logs, recordings, figures,
data files, the lesson book's pages) goes through write_atomically: the bytes go to a
temporary file in the same folder, are flushed to disk, and the temporary file is renamed over
the target. os.replace is one step on every operating system, so whoever reads the file sees
the old version or the new one, never half of one, and a save that fails half-way (a full
disk, Ctrl-C, a crash) leaves the previous file as it was. Its error names the file that was
asked for, never the temporary one.
"""

import os
import tempfile


def check_path(path, where):
    """A file name as str; pathlib.Path and bytes are accepted."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{where}: path must be a file name (a str or pathlib.Path), "
                        f"got {path!r}") from None
    return path.decode() if isinstance(path, bytes) else path


def write_atomically(path, data, where="write", example_name="file"):
    """Write `data` to `path` atomically (see the module docstring).

    data: bytes, a str (written as UTF-8), or a function write(file) that writes into the
          open binary file (e.g. lambda file: np.savez(file, **arrays)).
    where: how errors name the caller, e.g. 'save_weights'. example_name: the file name an
          error suggests when `path` is a folder.
    The new file gets the permissions open() would give it: 0o666 minus the user's umask;
    a file it replaces keeps its own permissions, and a symbolic link is written through (the
    file it points to is replaced, the link stays), as writing in place would do.
    """
    path = check_path(path, where)
    path = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where}: {path} is a folder; give a file name such as "
                                f"{os.path.join(path, example_name)}")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{where}: the folder {folder} does not exist; create it "
                                f"first, e.g. os.makedirs(folder)")
    try:
        handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".tinynet-", suffix=".tmp")
    except PermissionError:
        raise PermissionError(f"{where}: cannot write in the folder {folder} (permission "
                              f"denied)") from None
    except OSError as err:  # e.g. /proc, which takes no new files
        note = f"the folder {folder} takes no new files"
        raise write_error(err, where, path, note) from None
    try:
        with os.fdopen(handle, "wb") as file:
            if callable(data):
                data(file)
            else:
                file.write(data.encode("utf-8") if isinstance(data, str) else data)
            file.flush()
            os.fsync(file.fileno())  # on disk before the rename, or a crash could lose both
        # mkstemp makes files only we can read: give the old file's mode, or open()'s
        mode = os.stat(path).st_mode & 0o7777 if os.path.isfile(path) else default_file_mode()
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    except BaseException as err:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        if isinstance(err, OSError):  # a full disk, ...: named by the file asked for
            note = "the previous file, if any, is unchanged"
            raise write_error(err, where, path, note) from None
        raise


def write_error(err, where, path, note):
    """The OSError `err` (of the same class and errno) with a message that names the file
    the user asked for, not the temporary file that was being written."""
    reason = err.strerror or str(err)
    message = f"{where}: could not write {path}: {reason} ({note})"
    return type(err)(err.errno, message) if err.errno is not None else type(err)(message)


def default_file_mode():
    """The permissions open() gives a new file: 0o666 minus the user's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask

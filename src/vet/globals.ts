/**
 * Which Python globals a pickle may import and call, in tiers (docs/scan.md has the table):
 * - dangerous (critical, called or not): code execution, process spawn, file system, network,
 *   nested deserialisers, import machinery, code objects, attribute access machinery;
 * - allowed (no finding): reconstructors that only build data — containers, PyTorch tensors and
 *   storages, NumPy arrays, dtypes, scalar types and matrices, joblib's array wrappers, scikit-learn
 *   estimator classes, SciPy sparse matrices;
 * - low (a note): classes of data libraries rebuilt from saved state by __setstate__ (pandas frames,
 *   statsmodels results, bitarray) — no I/O on load, but code outside the core allowlist runs;
 * - everything else: high when called, medium when only imported.
 * Policy files extend the allowlist (`allowGlobals`), never the other way round.
 */

/** Python 2 and platform aliases, so `posix.system` is seen as `os.system`. */
const MODULE_ALIASES: Record<string, string> = {
  __builtin__: "builtins",
  exceptions: "builtins",
  posix: "os",
  nt: "os",
  _posixsubprocess: "subprocess",
  commands: "subprocess",
  popen2: "subprocess",
  cPickle: "pickle",
  _pickle: "pickle",
  copy_reg: "copyreg",
  urllib2: "urllib",
  httplib: "http",
  SocketServer: "socketserver",
};

/** Whole modules (and their submodules) whose every callable is dangerous. */
const DANGEROUS_MODULES = new Set([
  "os",
  "subprocess",
  "sys",
  "socket",
  "socketserver",
  "ssl",
  "shutil",
  "runpy",
  "importlib",
  "imp",
  "zipimport",
  "pkgutil",
  "pty",
  "ctypes",
  "_ctypes",
  "cffi",
  "marshal",
  "pickle",
  "dill",
  "cloudpickle",
  "shelve",
  "code",
  "codeop",
  "webbrowser",
  "urllib",
  "requests",
  "httpx",
  "aiohttp",
  "http",
  "ftplib",
  "smtplib",
  "telnetlib",
  "poplib",
  "imaplib",
  "nntplib",
  "xmlrpc",
  "asyncio",
  "multiprocessing",
  "concurrent",
  "threading",
  "_thread",
  "signal",
  "tempfile",
  "pathlib",
  "glob",
  "fcntl",
  "mmap",
  "resource",
  "platform",
  "pdb",
  "bdb",
  "trace",
  "timeit",
  "profile",
  "cProfile",
  "pydoc",
  "pip",
  "setuptools",
  "distutils",
  "venv",
  "ensurepip",
  "types",
  "inspect",
  "gc",
  "weakref",
  "_io",
  "io",
  "fileinput",
  "zipfile",
  "tarfile",
  "logging.config",
  "idlelib",
  "lib2to3",
  "sqlite3",
  "dbm",
  "torch.hub",
  "torch.jit",
  "torch.package",
  "torch.utils.cpp_extension",
  "torch._C",
  "torch.ops",
  "torch.classes",
  "numpy.f2py",
  "numpy.distutils",
  "numpy.testing",
  "keras.src.saving",
  "tensorflow.io",
  "tf.io",
]);

/** Single callables that are dangerous inside otherwise ordinary modules. */
const DANGEROUS_NAMES = new Set([
  "builtins.eval",
  "builtins.exec",
  "builtins.execfile",
  "builtins.compile",
  "builtins.open",
  "builtins.file",
  "builtins.__import__",
  "builtins.getattr",
  "builtins.setattr",
  "builtins.delattr",
  "builtins.globals",
  "builtins.locals",
  "builtins.vars",
  "builtins.breakpoint",
  "builtins.input",
  "builtins.reload",
  "builtins.apply",
  "builtins.help",
  "builtins.memoryview",
  "builtins.type",
  "builtins.super",
  "operator.attrgetter",
  "operator.methodcaller",
  "operator.itemgetter",
  "operator.getitem",
  "operator.setitem",
  "functools.reduce",
  "codecs.open",
  "torch.load",
  "torch.serialization.load",
  "torch.storage._load_from_bytes",
  "torch.save",
  "numpy.load",
  "numpy.save",
  "numpy.fromfile",
  "numpy.lib.npyio.load",
  "pandas.read_pickle",
  "joblib.load",
  "joblib.numpy_pickle.load",
  "pandas.io.pickle.read_pickle",
]);

/** Reconstructors that benign model files need. */
const ALLOWED = new Set([
  "collections.OrderedDict",
  "collections.defaultdict",
  "collections.deque",
  "collections.Counter",
  "builtins.set",
  "builtins.frozenset",
  "builtins.list",
  "builtins.dict",
  "builtins.tuple",
  "builtins.bytes",
  "builtins.bytearray",
  "builtins.slice",
  "builtins.complex",
  "builtins.range",
  "builtins.xrange", // Python 2's range (written as __builtin__.xrange)
  "builtins.int",
  "builtins.float",
  "builtins.str",
  "builtins.bool",
  "_codecs.encode",
  "codecs.encode",
  "datetime.datetime",
  "datetime.date",
  "datetime.timedelta",
  "decimal.Decimal",
  "fractions.Fraction",
  "uuid.UUID",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_tensor_v3",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "torch._utils._rebuild_qtensor",
  "torch._utils._rebuild_sparse_tensor",
  "torch._utils._rebuild_nested_tensor",
  "torch._utils._rebuild_device_tensor_from_numpy",
  "torch._utils._rebuild_meta_tensor_no_storage",
  "torch._utils._rebuild_wrapper_subclass",
  "torch._tensor._rebuild_from_type",
  "torch._tensor._rebuild_from_type_v2",
  "torch.Size",
  "torch.device",
  "torch.Tensor",
  "torch.nn.parameter.Parameter",
  "torch.per_tensor_affine",
  "torch.per_channel_affine",
  "numpy.core.multiarray._reconstruct",
  "numpy._core.multiarray._reconstruct",
  "numpy.core.multiarray.scalar",
  "numpy._core.multiarray.scalar",
  "numpy.core.numeric._frombuffer",
  "numpy._core.numeric._frombuffer",
  "numpy.ndarray",
  "numpy.dtype",
  "numpy.ma.core._mareconstruct",
  "numpy.random._pickle.__randomstate_ctor",
  "numpy.random._pickle.__generator_ctor",
  "numpy.random._pickle.__bit_generator_ctor",
  // joblib stores arrays as these wrappers, the array bytes following in the file.
  "joblib.numpy_pickle.NumpyArrayWrapper",
  "joblib.numpy_pickle.NDArrayWrapper",
  // joblib < 0.10's compressed form of the same: the array's zlib data in a sibling file.
  "joblib.numpy_pickle.ZNDArrayWrapper",
  "sklearn.tree._tree.Tree",
  "sklearn.utils._bunch.Bunch",
  // numpy: the ndarray-subclass reconstructor, matrices, masked arrays.
  "numpy.core._internal._reconstruct",
  "numpy._core._internal._reconstruct",
  "numpy.matrixlib.defmatrix.matrix",
  "numpy.matrix",
  "numpy.ma.core.MaskedArray",
  "numpy.core.records.recarray",
  "numpy.core.records.record",
  "numpy._core.records.record",
  "numpy.record",
  "numpy.rec.recarray",
  "numpy.random.mtrand.RandomState",
  "numpy.random.mtrand.__RandomState_ctor",
  "numpy.random._mt19937.MT19937",
  "numpy.random._pcg64.PCG64",
  "numpy.random._generator.Generator",
]);

/** NumPy scalar and dtype classes (numpy.float64, numpy.dtypes.Float64DType, …): values, no behaviour on load. */
const NUMPY_SCALAR =
  /^numpy\.(_core\.|core\.)?(dtypes\.)?(bool_?|bool8|byte|ubyte|short|ushort|intc|uintc|int_|uint|intp|uintp|longlong|ulonglong|half|single|double|longdouble|csingle|cdouble|clongdouble|float(16|32|64|96|128)?|int(8|16|32|64)?|uint(8|16|32|64)?|complex(64|128|192|256)?|str_|bytes_|void|object_|datetime64|timedelta64|generic|number|[A-Z]\w*DType)$/;

/** SciPy's sparse matrix and array classes: data containers rebuilt from their attributes. */
const SCIPY_SPARSE = /^scipy\.sparse\.(_\w+\.)?(csr|csc|coo|bsr|dia|dok|lil)_(matrix|array)$/;

/**
 * Data-library classes rebuilt from saved state (copyreg / __setstate__): they do no I/O on load,
 * but run their library's code, so they are a low note, not silence. Only class names (CamelCase)
 * and the named reconstructor functions; every other function of these packages stays unknown, and
 * their I/O modules (pandas.io, scipy.io, statsmodels.iolib) stay out.
 */
const LOW: { pattern: RegExp; reason: string }[] = [
  {
    pattern:
      // Not pandas.core.computation: its Expr evaluates an expression string when constructed (calls,
      // attribute chains such as [].__class__.__base__.__subclasses__()), and Scope reads callers' frames.
      /^pandas\.(?!core\.computation\b)(core|_libs|arrays|tseries)(\.[a-z_]\w*)*\.([A-Z]\w*|_unpickle_\w+|__pyx_unpickle_\w+|_new_Index|_new_PeriodIndex|_reconstruct\w*|new_block\w*)$/,
    reason: "a pandas data structure (frame, series, index, block) rebuilt from its saved state",
  },
  {
    pattern: /^statsmodels\.(?!iolib|api$)[a-z_]\w*(\.[a-z_]\w*)*\.[A-Z]\w*$/,
    reason: "a statsmodels model or results class rebuilt from its saved attributes",
  },
  { pattern: /^bitarray(\._bitarray)?\.(_bitarray_reconstructor|bitarray|frozenbitarray)$/, reason: "bitarray's reconstructor: a bit array from bytes" },
  {
    pattern: /^scipy\.(stats|interpolate|spatial|optimize|signal|special|linalg)(\.[a-z_]\w*)*\.[A-Z]\w*$/,
    reason: "a SciPy result or data class rebuilt from its saved attributes",
  },
];

/**
 * TorchScript's pickle helpers (torch/jit/_pickle.py): each returns the list or tag it is given. The
 * rest of torch.jit (load, script, compile) stays dangerous.
 */
const TORCHSCRIPT_PICKLE = /^torch\.jit\._pickle\.(build_intlist|build_tensorlist|build_doublelist|build_boollist|build_tensor_from_id|restore_type_tag)$/;

/**
 * Allowlisted constructors whose *arguments* get called: copyreg builds instances of the class it is
 * given; numpy's `_reconstruct(subtype, …)` runs the ndarray subclass's `__array_finalize__`,
 * `_mareconstruct(subtype, …)` calls `subtype.__new__`, and numpy.random's ctors call the
 * bit-generator constructor they are given.
 */
export const FORWARDING = new Set([
  "copyreg._reconstructor",
  "copyreg.__newobj__",
  "copyreg.__newobj_ex__",
  "numpy.core.multiarray._reconstruct",
  "numpy._core.multiarray._reconstruct",
  "numpy.core._internal._reconstruct",
  "numpy._core._internal._reconstruct",
  "numpy.ma.core._mareconstruct",
  // __randomstate_ctor(name, bit_generator_ctor) and __generator_ctor(…) call their second argument.
  "numpy.random._pickle.__randomstate_ctor",
  "numpy.random._pickle.__generator_ctor",
]);

/**
 * scikit-learn estimators and transformers: classes (CamelCase names) of the estimator packages,
 * rebuilt with copyreg and __setstate__. Functions of those packages, and every other sklearn
 * module, stay unknown.
 */
const SKLEARN_CLASS =
  /^sklearn\.(linear_model|svm|tree|ensemble|neighbors|naive_bayes|preprocessing|pipeline|compose|decomposition|feature_extraction|feature_selection|cluster|impute|neural_network|calibration|discriminant_analysis|kernel_ridge|gaussian_process|cross_decomposition|multiclass|multioutput|isotonic|mixture|manifold|semi_supervised|dummy)(\.[a-z_][\w]*)*\.[A-Z]\w*$/;

/**
 * Class names that, in any module, are re-exports of process, thread, file or unpickler classes
 * (`statsmodels.graphics.functional.Pool` is multiprocessing's Pool): find_class returns whatever a
 * module imported, so the CamelCase tiers below must not vouch for these names.
 */
const REEXPORTED_CLASS =
  /^(Pool|ThreadPool|Popen|Process|Thread|Timer|Manager|ThreadPoolExecutor|ProcessPoolExecutor|Path|PosixPath|WindowsPath|Unpickler|ZipFile|TarFile|TemporaryFile|NamedTemporaryFile|SpooledTemporaryFile|TemporaryDirectory|FileIO|Memory)$/;

const TORCH_STORAGE = /^torch\.(cuda\.)?[A-Za-z0-9]*Storage$/;
const TORCH_DTYPE = /^torch\.(float|double|half|bfloat|int|uint|long|short|bool|complex|cfloat|cdouble|qint|quint|float8_)[a-z0-9_]*$/;

export type GlobalClass = "dangerous" | "allowed" | "low" | "unknown";

export function normaliseModule(module: string): string {
  const head = module.split(".")[0] as string;
  const alias = MODULE_ALIASES[head];
  return alias ? alias + module.slice(head.length) : module;
}

/** Classify `module.name`; `extraAllowed` holds policy additions (exact names or `module.*`). */
export function classifyGlobal(module: string, name: string, extraAllowed: ReadonlySet<string> = new Set()): GlobalClass {
  const mod = normaliseModule(module.trim());
  const full = `${mod}.${name.trim()}`;
  if (TORCHSCRIPT_PICKLE.test(full)) return "allowed";
  if (DANGEROUS_NAMES.has(full)) return "dangerous";
  const parts = mod.split(".");
  for (let i = 1; i <= parts.length; i++) if (DANGEROUS_MODULES.has(parts.slice(0, i).join("."))) return "dangerous";
  // A dunder name reached through any module (e.g. `collections.__builtins__`) is attribute machinery.
  if (/(^|\.)__(?!newobj|newobj_ex|randomstate_ctor|RandomState_ctor|generator_ctor|bit_generator_ctor)[A-Za-z_]+__($|\.)/.test(name)) return "dangerous";
  if (name.includes(".") && !full.startsWith("numpy.") && !full.startsWith("torch.")) return "unknown";
  if (REEXPORTED_CLASS.test(name) && !extraAllowed.has(full) && !extraAllowed.has(`${mod}.*`)) return "unknown";
  if (ALLOWED.has(full) || FORWARDING.has(full) || TORCH_STORAGE.test(full) || TORCH_DTYPE.test(full) || SKLEARN_CLASS.test(full)) return "allowed";
  if (NUMPY_SCALAR.test(full) || SCIPY_SPARSE.test(full)) return "allowed";
  if (extraAllowed.has(full) || extraAllowed.has(`${mod}.*`)) return "allowed";
  if (lowReason(full)) return "low";
  return "unknown";
}

/** Why a global is in the low tier (undefined when it is not). */
export function lowReason(full: string): string | undefined {
  return LOW.find((l) => l.pattern.test(full))?.reason;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linlearn.h - the one public header of linlearn, SageMaker's Linear Learner in C. It is
 * ordered as the data flows:
 *
 *   sources     ll_reader (file, stdin, FIFO, memory, folder, glob, http(s), s3, manifest),
 *               ll_source_opts, Pipe mode
 *   parsing     ll_parser: CSV, LIBSVM, JSON Lines and RecordIO-protobuf  ->  ll_batch
 *   batches     ll_batch; ll_sink (an encoder) -> ll_writer; convert and inspect
 *   training    ll_hparams, ll_train
 *   models      ll_model: load, accessors, ll_model_predict
 *   inference   ll_predict (batch transform), ll_server (the SageMaker hosting protocol)
 *   container   ll_sm_train (the training container contract), ll_job_run (a local job)
 *
 * Worked example: count the rows of any supported input.
 *
 *     ll_err err;
 *     ll_reader *rd;
 *     ll_parser *p;
 *     ll_batch b;
 *     ll_parse_opts o;
 *     ll_parse_opts_init(&o);
 *     if (ll_reader_open("train.csv", &rd, &err) != LL_OK) { ...print err... }
 *     if (ll_parser_new(rd, &o, &p, &err) != LL_OK) { ... }
 *     ll_batch_init(&b);
 *     int eof = 0;
 *     uint64_t n = 0;
 *     while (!eof) {
 *         if (ll_parser_next(p, &b, 1000, &eof, &err) != LL_OK) { ... }
 *         n += b.n_rows;
 *     }
 *     ll_batch_deinit(&b); ll_parser_free(p); ll_reader_free(rd);
 *
 * Conventions: every fallible function returns ll_code and takes `ll_err *err` last (NULL
 * allowed). Functions named _new/_open return objects freed by the matching _free; freeing
 * NULL is a no-op. Nothing here prints, exits or aborts on bad input. Only the functions
 * marked LL_API are exported from liblinlearn.so. The library keeps no process-wide settings
 * of its own: every setting travels in the options of the call (the one exception, the
 * matrix kernels' thread count, is the program's to set: ll_blas_set_threads).
 *
 * Options: a ll_*_opts struct is always filled by its ll_*_opts_init first, then the fields
 * the caller cares about are set. Each ends with `reserved` room: a new setting takes 8 bytes
 * of it (one uint64_t, double or pointer) and gets its default from the init function, so the
 * struct's size and layout never change and a program built against an older header keeps
 * working with a newer library. Options embedded in others (ll_parse_opts, ll_sink_opts) grow
 * the same way.
 */
#ifndef LINLEARN_H
#define LINLEARN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header (the only place it is written; see ll_version). */
#define LL_VERSION "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define LL_API __attribute__((visibility("default")))
#else
#define LL_API
#endif

/* ------------------------------------------------------------------------------------------ */
/* Version and errors                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* The version of the library in use (LL_VERSION of the header it was built from). */
LL_API const char *ll_version(void);

/* The threads of the matrix kernels (OpenBLAS; at least 1). A process-wide setting, so the
 * program sets it, once, before training or serving; the library never does. Suggested:
 * training, the --threads count less one (each channel's prefetch thread parses on a core of
 * its own); a server, 1 (its workers score in parallel); batch transform, the cores. */
LL_API void ll_blas_set_threads(int n);

/* Result codes. The numbers never change. */
typedef enum {
    LL_OK = 0,
    LL_E_NOMEM = 1,  /* an allocation failed */
    LL_E_IO = 2,     /* a system call failed (sys_errno says why) */
    LL_E_PARSE = 3,  /* the input is malformed */
    LL_E_TOOBIG = 4, /* a size limit was hit (a line, a record, a buffer) */
    LL_E_ARG = 5,    /* a bad argument or setting */
    LL_E_REMOTE = 6, /* a remote service refused or failed */
    LL_E_STATE = 7,  /* the call is not valid in the object's state */
} ll_code;

/* Which location fields of ll_err are meaningful. */
enum { LL_ERR_OFFSET = 1, LL_ERR_LINE = 2, LL_ERR_RECORD = 4, LL_ERR_COLUMN = 8 };

/* The details of a failure. Filled by the function that detects it, where the offset and line
 * are known. */
typedef struct ll_err {
    ll_code code;
    int sys_errno;   /* errno at the failing call, else 0 */
    unsigned has;    /* LL_ERR_* bits: which of the fields below are set */
    char src[128];   /* "train.csv", "s3://bucket/key", "stdin" */
    uint64_t offset; /* byte offset in src */
    uint64_t line;   /* 1-based line for text inputs */
    uint64_t column; /* 1-based field (CSV) or item (LIBSVM) number */
    uint64_t record; /* 0-based RecordIO record index */
    char msg[256];   /* what was expected, what was found */
} ll_err;

/* A static description of a code ("parse error", ...). */
LL_API const char *ll_strerror(ll_code code);

/* Formats err as "src:line:column (byte N, record R): msg" (parts that are not set are left
 * out) into buf. Returns buf. */
LL_API char *ll_err_format(const ll_err *err, char *buf, size_t cap);

/* Copies text into out (cap bytes, always terminated, cut short if need be) with the secrets of
 * every URL in it replaced, as AWS tools print presigned URLs: a userinfo ("user:password@") by
 * "***@", and the values of query parameters that carry credentials (X-Amz-Security-Token,
 * X-Amz-Signature, X-Amz-Credential, Signature, AWSAccessKeyId, and any name holding "token",
 * "secret", "password" or "signature") by "REDACTED". Every message, error location and file
 * name linlearn shows or derives from a source goes through it. text and out must not overlap.
 * Returns out. */
LL_API char *ll_redact(const char *text, char *out, size_t cap);

/* Clears err (code LL_OK, no location). NULL is allowed. */
LL_API void ll_err_clear(ll_err *err);

/* ------------------------------------------------------------------------------------------ */
/* Sources: where bytes come from                                                             */
/* ------------------------------------------------------------------------------------------ */

typedef struct ll_reader ll_reader;

/* Opens a byte source: "-" is standard input; otherwise a path (regular file or FIFO).
 * Further schemes (s3://, http://, directories, manifests) are documented in docs/SOURCES.md.
 * On success *out is a reader to free with ll_reader_free. */
LL_API ll_code ll_reader_open(const char *src, ll_reader **out, ll_err *err);

/* A reader over memory. The memory is borrowed and must outlive the reader. `name` is used in
 * error messages (copied). Returns NULL only when out of memory. */
LL_API ll_reader *ll_reader_mem(const void *data, size_t len, const char *name);

/* Reads up to cap bytes. Short reads are normal; *n == 0 with *eof == 0 never happens. At end
 * of stream *n is 0 and *eof is 1. */
LL_API ll_code ll_reader_read(ll_reader *r, void *buf, size_t cap, size_t *n, int *eof,
                              ll_err *err);

/* The name used in messages ("stdin", the path, the URL). */
LL_API const char *ll_reader_name(const ll_reader *r);

/* Bytes delivered so far. */
LL_API uint64_t ll_reader_offset(const ll_reader *r);

LL_API void ll_reader_free(ll_reader *r);

/* Settings for remote and multi-object sources (docs/SOURCES.md). Sources: a path, "-",
 * a folder (every file below it, sorted by path), a glob (data/part-?.pbr, data/x*), http(s)://URL,
 * s3://bucket/key, s3://bucket/prefix/ (every object under the prefix, in key order), and a
 * SageMaker manifest (a path ending in .manifest, or "manifest:" + any source). */
typedef struct ll_source_opts {
    const char *endpoint_url; /* S3-compatible endpoint, path-style (NULL: AWS_ENDPOINT_URL_S3,
                                 AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS) */
    uint32_t shard_index;     /* ShardedByS3Key: this host takes objects i, i+n, i+2n, ... */
    uint32_t shard_count;     /* n; 0 or 1: FullyReplicated */
    int shuffle;              /* ShuffleConfig: shuffle the object order (before sharding) */
    uint64_t shuffle_seed;    /* with epoch: the same seed and epoch give the same order */
    uint64_t epoch;           /* pass number, 0-based: a new shuffle each epoch */
    int record_wrap;          /* RecordWrapperType RecordIO: each object becomes one record */
    size_t prefetch_bytes;    /* read-ahead buffers for remote sources (default 64 MiB; 0 off) */
    int max_retries;          /* per request, after a failure or a cut (default 10) */
    unsigned retry_base_ms;   /* first back-off (default 200), doubled per retry ... */
    unsigned retry_max_ms;    /* ... up to this (default 10000) */
    unsigned stall_timeout_s; /* no byte for this long counts as a cut (default 60) */
    int compression;          /* CompressionType, LL_COMPRESSION_*: AUTO (default) inflates a
                                 source whose first bytes are 1F 8B (gzip; one member per object
                                 may follow another), GZIP requires it, NONE never inflates */
    uint64_t pipe_idle_ms;    /* ll_pipe_run: once a pass was read, a next FIFO that no reader
                                 opens within this ends the channel, as SageMaker creates the
                                 next FIFO only when asked (0, the default: wait for ever) */
    uint64_t reserved[7];     /* room to grow: see "Options" at the top */
} ll_source_opts;

enum { LL_COMPRESSION_AUTO = 0, LL_COMPRESSION_GZIP = 1, LL_COMPRESSION_NONE = 2 };

LL_API void ll_source_opts_init(ll_source_opts *o);

/* ll_reader_open with explicit settings (NULL: the built-in ones, ll_source_opts_init). */
LL_API ll_code ll_reader_open_ex(const char *src, const ll_source_opts *o, ll_reader **out,
                                 ll_err *err);

/* The bytes src will deliver before decompression, from the file sizes or the S3 listing (no
 * data is read): *total is UINT64_MAX when some part's size is unknown (stdin, FIFOs, plain
 * http(s) without a length). Progress lines use it for percent and ETA. */
LL_API ll_code ll_source_size(const char *src, const ll_source_opts *o, uint64_t *total,
                              ll_err *err);

/* Pipe mode, reading side: waits up to timeout_ms (0: 60 s) for the FIFO "<prefix>_<epoch>"
 * (e.g. "/opt/ml/input/data/train", 0 -> ".../train_0") and opens it. The epoch's data is
 * inflated when it starts with 1F 8B (LL_COMPRESSION_AUTO). */
LL_API ll_code ll_pipe_open(const char *prefix, uint64_t epoch, unsigned timeout_ms,
                            ll_reader **out, ll_err *err);
/* ll_pipe_open that also gives up (LL_E_STATE, "stopped ...") as soon as *stop becomes non-zero,
 * e.g. set by a SIGTERM handler (or by another thread with an atomic store such as
 * __atomic_store_n(&stop, 1, __ATOMIC_RELEASE)); checked at least every 50 ms, also later while
 * reads from the returned reader wait for data (they then fail with LL_E_STATE, "stopped"). The
 * timeout covers the wait for the FIFO and for the writer's first byte (or its EOF). stop may be
 * NULL. */
LL_API ll_code ll_pipe_open_ex(const char *prefix, uint64_t epoch, unsigned timeout_ms,
                               const volatile int *stop, ll_reader **out, ll_err *err);

/* Pipe mode, writing side (`linlearn pipe`): for each epoch creates DIR/<name>_<epoch> FIFOs and
 * streams each channel's source (re-opened per epoch with o->epoch set) into its FIFO, one
 * thread per channel; a channel's next FIFO is created when the reader has finished the
 * previous one (o->pipe_idle_ms: a reader that stops asking ends its channel). Returns when every
 * epoch has been consumed or *stop becomes non-zero (FIFOs
 * are removed either way; *stop is read atomically: set it from a signal handler or with an
 * atomic store from another thread). */
typedef struct ll_pipe_channel {
    const char *name; /* [A-Za-z0-9.-_]{1,64} */
    const char *src;  /* any source */
} ll_pipe_channel;
LL_API ll_code ll_pipe_run(const char *dir, const ll_pipe_channel *ch, size_t n_ch, uint64_t epochs,
                           const ll_source_opts *o, volatile int *stop, ll_err *err);
/* ll_pipe_run that also adds every byte handed to a reader to *fed (atomically, from the
 * channels' threads; read it with __atomic_load_n), for a progress display. */
LL_API ll_code ll_pipe_run_counted(const char *dir, const ll_pipe_channel *ch, size_t n_ch,
                                   uint64_t epochs, const ll_source_opts *o, volatile int *stop,
                                   uint64_t *fed, ll_err *err);

/* File mode: copies a channel's objects (after sharding/shuffle settings) into folder dir,
 * one file per object named by its key relative to the prefix. *n_files and *n_bytes may be
 * NULL. */
LL_API ll_code ll_source_download(const char *src, const ll_source_opts *o, const char *dir,
                                  uint64_t *n_files, uint64_t *n_bytes, ll_err *err);

/* ------------------------------------------------------------------------------------------ */
/* Parsing: formats and parsers                                                               */
/* ------------------------------------------------------------------------------------------ */

typedef struct ll_batch ll_batch; /* the Batches section below */

typedef enum {
    LL_FMT_AUTO = 0,
    LL_FMT_CSV = 1,
    LL_FMT_LIBSVM = 2,
    LL_FMT_RECORDIO = 3, /* RecordIO-protobuf */
    LL_FMT_JSONL = 4,
} ll_format;

/* How a multi-frame RecordIO record (cflag 1/2/3) is reassembled. */
typedef enum {
    LL_SPLIT_DMLC = 0,   /* dmlc-core: the elided magic is re-inserted between frames */
    LL_SPLIT_CONCAT = 1, /* plain fragments, concatenated as they are (Amazon's ML-IO) */
    LL_SPLIT_AUTO = 2,   /* the default: whichever of the two yields a valid Record (dmlc-core
                            tried first); neither: the record is refused */
} ll_split_mode;

/* "csv", "libsvm", "recordio", "jsonl" (and aliases such as "text/csv",
 * "application/x-recordio-protobuf", "svm", "pbr"); LL_FMT_AUTO when unknown. */
LL_API ll_format ll_format_from_name(const char *name);
/* From a path's extension (.csv .tsv .libsvm .svm .pbr .rec .recordio .protobuf .jsonl). */
LL_API ll_format ll_format_from_path(const char *path);
LL_API const char *ll_format_name(ll_format f);

typedef struct ll_parse_opts {
    ll_format format;      /* LL_FMT_AUTO: from the source's name, else from its first bytes */
    int label_column;      /* CSV: 0-based label column (default 0); -1: no label */
    int header;            /* CSV: skip one header line */
    char delimiter;        /* CSV: ',' or '\t'; 0 = detect from the first line */
    int index_base;        /* LIBSVM: 1 (default) or 0 */
    uint64_t feature_dim;  /* LIBSVM: shape of sparse rows; 0 = largest index seen + 1 */
    ll_split_mode split;   /* RecordIO multi-frame convention */
    size_t max_record_len; /* largest RecordIO payload or text line accepted (bytes) */
    int finite;            /* refuse NaN and infinite features and labels, naming where (training
                              sets it; convert and predict keep them) */
    int allow_no_features; /* RecordIO: a Record with no features["values"] becomes a row of no
                              values and dimension 0 (ll_convert and ll_inspect set it); 0: it
                              is refused with its offset and record index (train, predict) */
    uint64_t threads;      /* CSV and LIBSVM: threads parsing chunks of the input at once (the
                              rows, their order and every message stay those of one thread);
                              1 (the default): the caller's thread only; 0: one per core */
    uint64_t chunk_bytes;  /* with threads: bytes of text per chunk (default 256 KiB) */
    uint64_t reserved[6];  /* room to grow: see "Options" at the top */
} ll_parse_opts;

LL_API void ll_parse_opts_init(ll_parse_opts *o);

typedef struct ll_parser ll_parser;

/* A parser over rd (borrowed; must outlive the parser). */
LL_API ll_code ll_parser_new(ll_reader *rd, const ll_parse_opts *o, ll_parser **out, ll_err *err);

/* Clears b and fills it with up to max_rows rows. At the end of the input *eof is set; the
 * last call may return fewer rows (possibly 0). */
LL_API ll_code ll_parser_next(ll_parser *p, ll_batch *b, size_t max_rows, int *eof, ll_err *err);

/* The format in use (after detection). */
LL_API ll_format ll_parser_format(const ll_parser *p);

/* Rows delivered so far. */
LL_API uint64_t ll_parser_rows(const ll_parser *p);

LL_API void ll_parser_free(ll_parser *p);

/* Shortest decimal text that parses back (strtof) to the same float bits; returns the length
 * written to out (at most 15 bytes plus NUL; out needs 16). */
LL_API int ll_f32_to_str(float v, char *out);

/* Parses a float exactly as strtof does in the C locale, whatever the process locale. Returns
 * the number of characters used (0 when s does not start with a number). */
LL_API size_t ll_str_to_f32(const char *s, size_t len, float *out);

/* ------------------------------------------------------------------------------------------ */
/* Batches, and writing them out: writers, sinks, convert, inspect                            */
/* ------------------------------------------------------------------------------------------ */

/* A mini-batch of rows. Read-only for users: parsers fill it, encoders and trainers read it.
 * Row i has its values in val[off[i] .. off[i+1]). A dense row (sparse[i] == 0) holds dim[i]
 * values in column order; a sparse row holds its non-zeros with column indices in
 * idx[off[i] .. off[i+1]) and dim[i] is the row's shape (product of the tensor shape).
 * Labels of row i are label[loff[i] .. loff[i+1]) (none for inference data, usually one).
 * When every row is dense and of the same width, `dense` is 1 and val is the row-major
 * n_rows x width matrix. The arrays belong to the batch and stay valid until the next fill. */
struct ll_batch {
    size_t n_rows;
    float *val;
    uint32_t *idx;   /* column of each value of a sparse row (unused for dense rows) */
    size_t *off;     /* n_rows + 1 */
    uint64_t *dim;   /* per row */
    uint8_t *sparse; /* per row: 1 if stored sparse */
    float *label;
    size_t *loff;    /* n_rows + 1 */
    float *weight;   /* per row, 1.0 unless the data says otherwise */
    int dense;       /* all rows dense and of the same width */
    uint64_t width;  /* that width when dense, else the largest dim */
    size_t n_sparse; /* rows stored sparse */
    /* Where each row came from, for messages: src_line[i] is its 1-based line in a text source
     * (0: not known, e.g. RecordIO or rows added by ll_batch_add_row); src_off[i] the byte
     * offset in the (decompressed) source of that line or of its RecordIO record. */
    uint64_t *src_line;
    uint64_t *src_off;
    /* capacities, private */
    size_t cap_rows, cap_val, cap_label;
};

LL_API void ll_batch_init(ll_batch *b);
LL_API void ll_batch_deinit(ll_batch *b);
/* Empties the batch, keeping its memory. */
LL_API void ll_batch_clear(ll_batch *b);

/* Appends a row. vals has n entries; idx is NULL for a dense row (then dim must equal n) or the
 * n column indices of a sparse row (each < dim). labels has n_labels entries (may be 0). */
LL_API ll_code ll_batch_add_row(ll_batch *b, const float *vals, const uint32_t *idx, size_t n,
                                uint64_t dim, const float *labels, size_t n_labels, ll_err *err);

typedef struct ll_writer ll_writer;

/* Opens a destination: "-" is standard output; a path is written under a temporary name in
 * the same folder and renamed onto the path by ll_writer_commit, so a failed run leaves no
 * partial file under the final name. */
LL_API ll_code ll_writer_open(const char *dst, ll_writer **out, ll_err *err);
/* ll_writer_open with explicit settings for s3:// destinations (NULL: the built-in ones). */
LL_API ll_code ll_writer_open_ex(const char *dst, const ll_source_opts *o, ll_writer **out,
                                 ll_err *err);

/* Appends len bytes (buffered). */
LL_API ll_code ll_writer_write(ll_writer *w, const void *p, size_t len, ll_err *err);

/* Flushes, closes and renames into place; frees w whatever the outcome. */
LL_API ll_code ll_writer_commit(ll_writer *w, ll_err *err);

/* Discards what was written (removes the temporary file); frees w. NULL is a no-op. */
LL_API void ll_writer_abort(ll_writer *w);

/* Bytes written so far. */
LL_API uint64_t ll_writer_offset(const ll_writer *w);

typedef enum { LL_LAYOUT_KEEP = 0, LL_LAYOUT_DENSE = 1, LL_LAYOUT_SPARSE = 2 } ll_layout;

typedef struct ll_sink_opts {
    ll_format format;     /* required: CSV, LIBSVM, RECORDIO or JSONL */
    ll_layout layout;     /* RecordIO/JSONL: dense or sparse rows; KEEP: as the input row is */
    char delimiter;       /* CSV: default ',' */
    int index_base;       /* LIBSVM out: 1 (default) or 0 */
    int no_label;         /* drop labels */
    uint64_t feature_dim; /* shape for sparse output / width for dense output of sparse rows;
                             0 = the row's own dim */
    uint64_t reserved[8]; /* room to grow: see "Options" at the top */
} ll_sink_opts;

LL_API void ll_sink_opts_init(ll_sink_opts *o);

typedef struct ll_sink ll_sink;

/* An encoder writing to w (borrowed). */
LL_API ll_code ll_sink_new(ll_writer *w, const ll_sink_opts *o, ll_sink **out, ll_err *err);
LL_API ll_code ll_sink_write(ll_sink *s, const ll_batch *b, ll_err *err);
LL_API void ll_sink_free(ll_sink *s);

/* Conversion and inspection (the `convert` and `inspect` commands). */

/* Progress of a streaming command, called after every batch: the input's bytes read so far
 * (after decompression) and rows done. */
typedef void (*ll_tick_fn)(void *ud, uint64_t bytes, uint64_t rows);

typedef struct ll_convert_opts {
    ll_parse_opts in;
    ll_sink_opts out;
    uint64_t shard_records;       /* >0: OUT is a prefix, a new part every N records */
    uint64_t shard_bytes;         /* >0: a new part once a part reaches this many bytes */
    size_t batch_rows;            /* rows per internal batch (default 4096) */
    const ll_source_opts *source; /* settings for s3:// and other remote IN and OUT; NULL:
                                     the built-in ones (borrowed) */
    ll_tick_fn tick;              /* NULL: not called */
    void *tick_ud;
    uint64_t reserved[8]; /* room to grow: see "Options" at the top */
} ll_convert_opts;

LL_API void ll_convert_opts_init(ll_convert_opts *o);

/* Converts src into dst (see ll_reader_open / ll_writer_open). With sharding, dst is a folder
 * or prefix and parts are named part-00000.<ext>. *n_rows receives the rows written. */
LL_API ll_code ll_convert(const char *src, const char *dst, const ll_convert_opts *o,
                          uint64_t *n_rows, ll_err *err);

typedef struct ll_inspect_opts {
    ll_parse_opts in;
    uint64_t head;                /* records to print as text (default 5) */
    int json;                     /* machine-readable JSON report */
    int validate;                 /* read everything, report the first problem */
    int n_feature_stats;          /* features with min/mean/max (default 10) */
    const ll_source_opts *source; /* settings for remote sources; NULL: the built-in ones */
    uint64_t reserved[8];         /* room to grow: see "Options" at the top */
} ll_inspect_opts;

LL_API void ll_inspect_opts_init(ll_inspect_opts *o);

/* Reads src and writes a report to w. */
LL_API ll_code ll_inspect(const char *src, const ll_inspect_opts *o, ll_writer *w, ll_err *err);

/* ------------------------------------------------------------------------------------------ */
/* Training: Linear Learner hyperparameters and `linlearn train`                              */
/* ------------------------------------------------------------------------------------------ */

/* A set of hyperparameters under SageMaker's names (docs/TRAINING.md lists them). Values are
 * strings, as in hyperparameters.json; unset names take their defaults. */
typedef struct ll_hparams ll_hparams;

LL_API ll_code ll_hparams_new(ll_hparams **out, ll_err *err);
LL_API void ll_hparams_free(ll_hparams *hp);

/* Sets one value. An unknown name, or a value of the wrong type or out of range, is refused
 * with a message naming the hyperparameter, the value and the valid range. Booleans are
 * accepted in any case ("true", "True"). */
LL_API ll_code ll_hparams_set(ll_hparams *hp, const char *name, const char *value, ll_err *err);

/* Sets every entry of a JSON object file (SageMaker's hyperparameters.json: values are strings;
 * numbers and booleans are accepted too). */
LL_API ll_code ll_hparams_load_json(ll_hparams *hp, const char *path, ll_err *err);

/* The i-th known hyperparameter: its name, its default (NULL: none, it must be given) and its
 * valid values as text. Returns 0 past the last one. Names starting with '_' are the
 * container's internal keys (accepted and ignored). */
LL_API int ll_hparams_info(size_t i, const char **name, const char **def, const char **range);

/* The value as set, else the default; NULL for an unknown name. */
LL_API const char *ll_hparams_get(const ll_hparams *hp, const char *name);

/* Checks the set as a whole (predictor_type given, num_classes for multiclass, loss allowed for
 * the predictor type, ...). ll_train calls it before reading any data. */
LL_API ll_code ll_hparams_validate(const ll_hparams *hp, ll_err *err);

/* Receives one log line (no newline), e.g. "#quality_metric: host=algo-1, epoch=0, train
 * mse_objective <loss>=0.93". The caller decides where it goes. */
typedef void (*ll_log_fn)(void *ud, const char *line);
/* Receives the fraction of training done (0..1), after every epoch and, when the train
 * channel's size is known from an earlier pass, within epochs. */
typedef void (*ll_progress_fn)(void *ud, double done);

/* One finished epoch, for a log made for people (docs/REPORT.md). */
typedef struct ll_epoch_info {
    uint32_t epoch, epochs;      /* 0-based epoch just done; the epochs hyperparameter */
    double train_objective;      /* the best model's train objective this epoch */
    double validation_objective; /* the best validation objective; NaN: no validation channel */
    const char *objective;       /* its name, e.g. "mse_objective" */
    const char *criterion;       /* the early-stopping criterion, e.g. "sampled_accuracy" */
    double criterion_value;      /* its value this epoch */
    double rows_per_s;           /* training throughput so far */
    double seconds;              /* this epoch (training and validation passes) */
    double eta_s;                /* time left if every remaining epoch runs (early stopping may
                                    end sooner) */
} ll_epoch_info;
typedef void (*ll_epoch_fn)(void *ud, const ll_epoch_info *e);

typedef struct ll_train_opts {
    const char *train;        /* required: a source (see ll_reader_open) or a Pipe-mode prefix */
    const char *validation;   /* optional */
    const char *test;         /* optional */
    ll_parse_opts parse;      /* format (LL_FMT_AUTO: from the name or bytes), CSV/LIBSVM options */
    int pipe;                 /* Pipe mode: pass n of a channel reads the FIFO "<src>_<n>" */
    unsigned pipe_timeout_ms; /* how long to wait for a FIFO to appear (default 60000) */
    const char *model_dir;    /* receives model.tar.gz; NULL: not saved */
    int sagemaker_model;      /* model.tar.gz in SageMaker's layout (model_algo-1) with
                                 linlearn's files beside it; 0: linlearn's layout */
    const char *metrics_json; /* receives the run's summary as JSON; NULL: not written */
    uint64_t seed;            /* same seed and threads: bit-identical models */
    int threads;              /* 0: all cores */
    ll_log_fn log;
    ll_progress_fn progress;
    void *ud;           /* passed to log, progress, epoch and summary */
    ll_epoch_fn epoch;  /* called after every epoch; NULL: not called */
    const char *report; /* receives the HTML training report (ll_report_write); NULL: none */
    ll_log_fn summary;  /* receives the metrics JSON text at the end (see ll_report_summary) */
    /* Container mode; zero keeps the behaviour above. Bit c of a mask is channel c
     * (0 train, 1 validation, 2 test). */
    unsigned pipe_mask;         /* channels in Pipe mode, in addition to `pipe` */
    unsigned gzip_mask;         /* channels whose bytes are gzip (members may be concatenated) */
    ll_format formats[3];       /* per-channel format; LL_FMT_AUTO: parse.format */
    const char *checkpoint_dir; /* save the state after every epoch and on stop; a run that
                                   finds a matching checkpoint there continues from it */
    volatile int *stop;         /* becomes non-zero (SIGTERM): checkpoint, then return LL_E_STATE */
    const char *host;           /* the host the log lines name ("host=algo-2"); NULL: "algo-1" */
    const char *initial_model;  /* warm start: every model starts from this model (a path as
                                   for ll_model_load); its predictor type and feature_dim must
                                   match, which is checked before any data is read */
    /* Across hosts (ll_dist_init, docs/DISTRIBUTED.md); ignored on one host. NULL host: rank r
     * is "algo-(r+1)". */
    int64_t shard;           /* LL_SHARD_AUTO (default), _FILES, _RECORDS, _NONE */
    uint64_t average_steps;  /* 0/1: gradients summed every step; H > 1: models averaged every H */
    uint64_t dist_timeout_s; /* a host waiting this long for the others ends the job (300) */
    int exact_final_metrics; /* 1: the final metrics of the selection channel come from a pass
                                of the saved model; 0 (default): from the selection pass's
                                scores of the selected model where every row fits (they agree
                                to float32 rounding: docs/TRAINING.md, "Finishing passes") */
    unsigned shard_own_mask; /* bit c: channel c (1 validation, 2 test) already is this host's
                                share (ShardedByS3Key), not split again; train: see shard */
    uint64_t checkpoint_steps; /* >0: also checkpoint every this many mini-batch steps inside an
                                  epoch (across hosts too), so a killed job resumes mid-epoch */
    int64_t cache_mb;          /* memory for passes kept decoded (MiB): a channel whose pass fits
                                  is read once and replayed (same results, docs/TRAINING.md,
                                  "Passes kept in memory"); 0: the environment's LINLEARN_CACHE_MB,
                                  else a quarter of the memory, at most 2048; < 0: none */
    uint64_t reserved[1];      /* room to grow: see "Options" at the top */
} ll_train_opts;

/* How the train channel is split over the hosts. AUTO: whole objects (host r of n reads objects
 * r, r+n, ..., as ShardedByS3Key) when the channel has at least n of them, else RECORDS: every
 * host reads the stream and keeps its slice of each mini-batch (the model one process trains).
 * NONE: each host's source already is its own share (SageMaker's ShardedByS3Key channels). */
enum { LL_SHARD_AUTO = 0, LL_SHARD_FILES = 1, LL_SHARD_RECORDS = 2, LL_SHARD_NONE = 3 };

LL_API void ll_train_opts_init(ll_train_opts *o);

/* Trains Linear Learner models as SageMaker does: scaler pass, num_models models trained
 * together, early stopping, model selection and threshold calibration, metrics on every
 * channel; writes model_dir/model.tar.gz and metrics_json. */
LL_API ll_code ll_train(const ll_hparams *hp, const ll_train_opts *o, ll_err *err);

/* Writes the training report for a metrics JSON file written by ll_train (metrics_json): one
 * self-contained HTML page with inline SVG pictures (docs/REPORT.md), to html_path (a temp
 * name renamed at the end). LL_E_IO: the file cannot be read or written; LL_E_PARSE: not a
 * metrics file. */
LL_API ll_code ll_report_write(const char *metrics_json, const char *html_path, ll_err *err);

/* The closing summary of a training run for people, from the metrics JSON text: the selected
 * model and its settings, the threshold, the metrics as a small table. Returns a new string
 * the caller frees with free(); NULL when json is not a metrics document. */
LL_API char *ll_report_summary(const char *json);

/* The name in names[0..n) closest to a mistyped word ("convrt" -> "convert", "epoch" ->
 * "epochs"), or NULL when none is close enough to suggest. Case-insensitive. */
LL_API const char *ll_closest(const char *word, const char *const *names, size_t n);

/* ------------------------------------------------------------------------------------------ */
/* Models: written by training, read by predict and serve                                     */
/* ------------------------------------------------------------------------------------------ */

typedef enum {
    LL_BINARY_CLASSIFIER = 0,
    LL_MULTICLASS_CLASSIFIER = 1,
    LL_REGRESSOR = 2,
} ll_predictor;

/* "binary_classifier", "multiclass_classifier", "regressor". */
LL_API const char *ll_predictor_name(ll_predictor p);

typedef struct ll_model ll_model;

/* Loads a model, whichever of these it is (told from its bytes, not its name): linlearn's
 * model.tar.gz (manifest.json + weights.bin), SageMaker Linear Learner's model.tar.gz (one
 * member model_algo-1; when linlearn's files sit beside it, those are read), a bare
 * model_algo-1 zip, or a folder holding linlearn's two files unpacked, model.tar.gz,
 * model_algo-1 or model_algo-1's files unpacked. Every field and size is checked; a damaged or
 * foreign file is refused with a message saying what is wrong and where (member and byte offset).
 * docs/MODEL.md has both layouts. */
LL_API ll_code ll_model_load(const char *path, ll_model **out, ll_err *err);
LL_API void ll_model_free(ll_model *m);

LL_API ll_predictor ll_model_predictor(const ll_model *m);
LL_API uint64_t ll_model_feature_dim(const ll_model *m);
/* Scores per row: 1 for binary classifiers and regressors, num_classes for multiclass. */
LL_API uint32_t ll_model_n_outputs(const ll_model *m);
/* Decision threshold on the binary score (0.5 unless tuned by training). */
LL_API float ll_model_threshold(const ll_model *m);

/* Scores a batch with raw (unscaled) features: scores receives n_rows * n_outputs values
 * (binary: P(label = 1) for logistic loss, the raw score for hinge loss; multiclass: softmax
 * probabilities; regressor: the prediction in label units) and labels receives n_rows
 * predicted labels (binary 0/1 after the threshold, multiclass argmax; NULL allowed; unused
 * for regressors). A row wider than feature_dim is an error naming both counts. */
LL_API ll_code ll_model_predict(const ll_model *m, const ll_batch *b, float *scores, float *labels,
                                ll_err *err);

/* Formats a model can be written in (`linlearn export --format`). */
typedef enum {
    LL_MODEL_LINLEARN = 0,  /* linlearn's model.tar.gz */
    LL_MODEL_SAGEMAKER = 1, /* SageMaker's model.tar.gz (model_algo-1 only), for SageMaker's
                               own Linear Learner image */
    LL_MODEL_ONNX = 2,      /* an ONNX model (opset 13): input "features" [N, D] float32,
                               outputs "score" [N, C] and "predicted_label" [N] */
} ll_model_format;

/* Writes m to dst (see ll_writer_open: a temporary name renamed on success) in format fmt. */
LL_API ll_code ll_model_export(const ll_model *m, const char *dst, ll_model_format fmt,
                               ll_err *err);

/* The weights of a loaded model (feature-major: feature j, output c at j * n_outputs + c) and
 * its n_outputs biases; for `linlearn export`. */
LL_API const float *ll_model_weights(const ll_model *m);
LL_API const float *ll_model_bias(const ll_model *m);
/* The training loss ("logistic", "squared_loss", ...). */
LL_API const char *ll_model_loss(const ll_model *m);

/* ------------------------------------------------------------------------------------------ */
/* Inference: batch transform (predict) and the SageMaker hosting protocol (serve)            */
/* ------------------------------------------------------------------------------------------ */

/* Request bodies and inputs: text/csv (features only), application/json ({"instances": [...]}),
 * application/jsonlines and application/x-recordio-protobuf (dense or sparse). Responses and
 * outputs: application/json (SageMaker's default), application/jsonlines,
 * application/x-recordio-protobuf and text/csv (ours: predicted_label,score per row). The
 * layouts are in docs/SERVING.md. */

typedef struct ll_predict_opts {
    ll_parse_opts in; /* input parsing; in.format LL_FMT_AUTO: from content_type or the path */
    const char *content_type; /* input media type (also "application/json"); NULL: from in */
    const char *accept;       /* output media type; NULL: from dst's extension, else JSON */
    size_t batch_rows;        /* rows scored at a time (default 1000) */
    size_t max_json_bytes;    /* largest application/json input read whole (default 1 GiB) */
    ll_tick_fn tick;          /* progress after every batch; NULL: not called */
    void *tick_ud;
    uint64_t reserved[8]; /* room to grow: see "Options" at the top */
} ll_predict_opts;

LL_API void ll_predict_opts_init(ll_predict_opts *o);

/* Scores every row of src (see ll_reader_open) with m and writes the predictions to dst (see
 * ll_writer_open), streaming in mini-batches: memory does not depend on the input's size
 * (application/json input, one document, is the exception: it is read whole). *n_rows receives
 * the rows scored (NULL allowed). A row whose width differs from the model's feature
 * dimension is LL_E_PARSE naming the row and both counts. */
LL_API ll_code ll_predict(const ll_model *m, const char *src, const char *dst,
                          const ll_predict_opts *o, uint64_t *n_rows, ll_err *err);

typedef struct ll_serve_opts {
    const char *host;   /* IPv4/IPv6 address to bind (default "127.0.0.1"; "0.0.0.0" for all;
                           "localhost" is 127.0.0.1) */
    uint16_t port;      /* default 8080; 0 picks a free port (see ll_server_port) */
    unsigned threads;   /* worker threads (default: the number of CPUs, at most 64) */
    size_t max_payload; /* largest request body (default 6 MiB, as SageMaker): 413 */
    unsigned timeout_s; /* idle or stalled connections are closed after this (default 60) */
    size_t batch_rows;  /* rows scored at a time within a request (default 1000) */
    unsigned max_concurrent_transforms; /* reported by /execution-parameters (default 8) */
    unsigned header_timeout_s; /* a request's line and headers must be in within this, however
                                  slowly they trickle (default 10, at most timeout_s) */
    uint64_t reserved[8];      /* room to grow: see "Options" at the top */
} ll_serve_opts;

LL_API void ll_serve_opts_init(ll_serve_opts *o);

typedef struct ll_server ll_server;

/* Starts serving m (borrowed: it must outlive the server) on its own threads:
 * GET /ping, POST /invocations, GET /execution-parameters. Returns once the socket listens.
 * The workers score in parallel: call ll_blas_set_threads(1) first. */
LL_API ll_code ll_server_start(const ll_model *m, const ll_serve_opts *o, ll_server **out,
                               ll_err *err);

/* The port the server listens on (useful with port 0). */
LL_API uint16_t ll_server_port(const ll_server *s);

/* Requests answered so far and requests now in flight. */
LL_API void ll_server_stats(const ll_server *s, uint64_t *served, unsigned *in_flight);

/* Graceful stop: stops accepting connections, waits up to grace_ms for the requests in flight
 * to finish, then closes everything and frees s. NULL is a no-op. */
LL_API void ll_server_stop(ll_server *s, unsigned grace_ms);

/* ------------------------------------------------------------------------------------------ */
/* Container: the SageMaker training contract and local jobs                                  */
/* ------------------------------------------------------------------------------------------ */

/* `linlearn train --sagemaker`: the container contract (docs/CONTAINER.md). */
typedef struct ll_sm_opts {
    const char *root;           /* default "/opt/ml" */
    const char *checkpoint_dir; /* NULL: root/checkpoints when that folder exists; "": none */
    unsigned pipe_timeout_ms;   /* wait for a Pipe-mode FIFO (default 60000) */
    uint64_t seed;
    int threads; /* 0: all cores */
    ll_log_fn log;
    void *ud;
    volatile int *stop;        /* set by a SIGTERM handler: checkpoint and stop */
    ll_progress_fn progress;   /* the fraction of training done (ll_train_opts); NULL: none */
    uint64_t checkpoint_steps; /* ll_train_opts.checkpoint_steps (0: epoch ends only) */
    uint64_t reserved[7];      /* room to grow: see "Options" at the top */
} ll_sm_opts;

LL_API void ll_sm_opts_init(ll_sm_opts *o);

/* Reads root/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json, trains on the
 * channels train (required), validation and test found under root/input/data (a folder in
 * File/FastFile mode, FIFOs <channel>_<n> in Pipe mode; Gzip inflated) and writes
 * root/model/model.tar.gz. On failure it also writes root/output/failure: one paragraph that
 * starts with "Customer Error: " when the job's settings or data are at fault. */
LL_API ll_code ll_sm_train(const ll_sm_opts *o, ll_err *err);

/* The hosts of root/input/config/resourceconfig.json in rank order (natural order: algo-1,
 * algo-2, ..., algo-10; under mpirun host i is rank i) into buf, separated by single spaces,
 * and *current, current_host's place among them. Every name is checked to be 1-127 of
 * [A-Za-z0-9.-_] (it goes on a command line); nic (64 bytes, may be NULL) receives
 * network_interface_name ("eth0" when absent). For docker/entrypoint (docs/CONTAINER.md). */
LL_API ll_code ll_sm_hosts(const char *root, char *buf, size_t cap, uint32_t *current, char *nic,
                           ll_err *err);

/* Whether a code is the customer's fault (bad setting, bad data): LL_E_ARG, PARSE, TOOBIG. */
LL_API int ll_sm_is_customer_error(ll_code code);
/* The failure paragraph for e ("Customer Error: src:line (byte N): msg"); returns its length. */
LL_API size_t ll_sm_failure_text(const ll_err *e, char *buf, size_t cap);
/* Writes that paragraph to root/output/failure (temp + rename). */
LL_API ll_code ll_sm_write_failure(const char *root, const ll_err *e, ll_err *err);

/* `linlearn local-job`: a CreateTrainingJob-shaped JSON document run on this machine. */
typedef struct ll_job_opts {
    const char *job;  /* path of the JSON document */
    const char *root; /* the /opt/ml-style root to lay out; NULL: a new temporary folder */
    const char *exe;  /* required: the program started as the container, with the
                         arguments "train --sagemaker --sm-root ROOT" (the CLI passes its
                         own path) */
    unsigned grace_s; /* SIGTERM -> SIGKILL grace at the runtime limit (default 120) */
    int keep_root;    /* keep a temporary root afterwards */
    const char
        *endpoint; /* S3 endpoint for s3:// inputs and outputs (NULL: as ll_source_opts_init) */
    ll_log_fn log; /* the job's own progress lines */
    void *ud;
    volatile int *stop;   /* becomes non-zero: stop the job (SIGTERM to the container) */
    const char *mpirun;   /* InstanceCount > 1: Open MPI's launcher (NULL: "mpirun" on PATH) */
    uint64_t reserved[7]; /* room to grow: see "Options" at the top */
} ll_job_opts;

LL_API void ll_job_opts_init(ll_job_opts *o);

/* Lays out the root, copies File channels / feeds Pipe channels, runs the container as a child
 * with the stopping condition enforced, uploads model.tar.gz (and output/failure) to
 * OutputDataConfig.S3OutputPath/<TrainingJobName>/output/. *status receives the job's outcome:
 * 0 completed, else the child's exit status (128+signal when killed). A failed job is not an
 * error of this call; an error is returned when the job cannot be run or uploaded. */
LL_API ll_code ll_job_run(const ll_job_opts *o, int *status, ll_err *err);

/* ---- section: across hosts (issue 13, docs/DISTRIBUTED.md) ---- */

/* Joins the MPI job when a launcher (mpirun) started this process, as its environment shows
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK); otherwise does nothing and MPI is never called.
 * Then ll_train trains together with the other ranks: rank r is host algo-(r+1). Membership of
 * the job is process-wide, as MPI's is. Call once, from the main thread, before ll_train.
 * LL_E_ARG when started as one of several ranks by a build without MPI (make MPI=0). */
LL_API ll_code ll_dist_init(ll_err *err);
/* This process's rank and the number of ranks (0 and 1 without a launcher). */
LL_API int ll_dist_rank(void);
LL_API int ll_dist_size(void);
/* After a failure on this host: ends the job on every host with status code (returns only on
 * one host). */
LL_API void ll_dist_abort(int code);
/* Waits for every host, then leaves MPI (a no-op on one host). */
LL_API void ll_dist_finalize(void);

/* ------------------------------------------------------------------------------------------ */
/* Arrays in memory (issue 14): what language bindings (python/) build on                     */
/* ------------------------------------------------------------------------------------------ */

/* Element types of caller-owned arrays. */
typedef enum { LL_ELEM_F32 = 1, LL_ELEM_F64 = 2, LL_ELEM_I32 = 3, LL_ELEM_I64 = 4 } ll_elem;

/* A borrowed, strided n_rows x n_cols matrix (a vector: n_cols 1). Strides are in bytes and may
 * be anything, negative included (numpy's strides as they are). */
typedef struct ll_matrix {
    const void *data;
    ll_elem elem;
    size_t n_rows, n_cols;
    ptrdiff_t row_stride, col_stride;
} ll_matrix;

/* A borrowed CSR matrix (scipy's data / indices / indptr): row i's values are
 * data[indptr[i] .. indptr[i+1]) at columns indices[...]. index_elem and indptr_elem are I32 or
 * I64. The caller guarantees indptr stays within data and indices. */
typedef struct ll_csr {
    size_t n_rows;
    uint64_t n_cols;
    const void *data;
    ll_elem elem;
    const void *indices;
    ll_elem index_elem;
    const void *indptr;
    ll_elem indptr_elem;
} ll_csr;

/* A growable byte buffer owned by the caller: the encoders append at len, growing data (and
 * cap) as needed. Start it zeroed; free it with ll_buf_free; set len = 0 to reuse it. */
typedef struct ll_buf {
    uint8_t *data;
    size_t len, cap;
} ll_buf;

/* Frees b's memory and zeroes it. NULL is a no-op. */
LL_API void ll_buf_free(ll_buf *b);

/* Appends rows [r0, r1) of x to out as RecordIO-protobuf, byte for byte what the SageMaker
 * Python SDK's write_numpy_to_dense_tensor writes: one frame (cflag 0) per row holding a Record
 * with features["values"] = the row (F32: float32_tensor, F64: float64_tensor, I32 and I64:
 * int32_tensor; a 0-column row is a present, empty tensor) and, when labels is not NULL,
 * label["values"] = labels' element r as a one-value tensor of its own type (labels has at
 * least r1 rows). An I64 value outside int32 is LL_E_ARG naming the row and column; on error
 * out holds the records of the rows before the failing one. */
LL_API ll_code ll_encode_dense(const ll_matrix *x, const ll_matrix *labels, size_t r0, size_t r1,
                               ll_buf *out, ll_err *err);

/* Appends rows [r0, r1) of x as write_spmatrix_to_sparse_tensor writes them: per row its stored
 * values in stored order (explicit zeros and duplicates kept), keys = the column indices as
 * uint64 and shape = [n_cols]; a row with nothing stored has the shape only. */
LL_API ll_code ll_encode_csr(const ll_csr *x, const ll_matrix *labels, size_t r0, size_t r1,
                             ll_buf *out, ll_err *err);

/* A reader over a callback: fn fills buf with up to cap bytes and sets *n (0 with *eof at the
 * end); an error it returns (with err filled) is passed on. `name` is used in messages. Returns
 * NULL only when out of memory; free with ll_reader_free. */
typedef ll_code (*ll_read_fn)(void *ud, void *buf, size_t cap, size_t *n, int *eof, ll_err *err);
LL_API ll_reader *ll_reader_fn(ll_read_fn fn, void *ud, const char *name);

/* RecordIO framing on its own: the payloads of a stream's records (split records reassembled
 * per `split`; max_len 0: the format's largest). rd is borrowed. */
typedef struct ll_rio ll_rio;
LL_API ll_code ll_rio_open(ll_reader *rd, ll_split_mode split, size_t max_len, ll_rio **out,
                           ll_err *err);
/* The next payload, valid until the next call; *eof at the end. Errors carry the byte offset
 * and record index. */
LL_API ll_code ll_rio_next(ll_rio *r, const uint8_t **payload, size_t *len, int *eof, ll_err *err);
/* Byte offset of the last record's first header. */
LL_API uint64_t ll_rio_offset(const ll_rio *r);
LL_API void ll_rio_free(ll_rio *r);

/* A decoded aialgs.data.Record. Decoding copies nothing: the payload must outlive the use of
 * the record. which: 0 the features map, 1 the label map. */
typedef struct ll_record ll_record;

/* One map entry: its key and its Value's member (dtype: 0 none, 2 float32, 3 float64, 7 int32,
 * 9 Bytes, the protobuf field numbers; present: the member was there, possibly empty). */
typedef struct ll_tensor_info {
    const char *name; /* not NUL-terminated: name_len bytes */
    size_t name_len;
    int dtype;
    int present;
    size_t n_values, n_keys, n_shape;
} ll_tensor_info;

/* NULL only when out of memory. The record is reused by every ll_record_decode. */
LL_API ll_record *ll_record_new(void);
LL_API void ll_record_free(ll_record *r);
/* LL_E_PARSE with the payload-relative offset when the bytes are not a Record. */
LL_API ll_code ll_record_decode(ll_record *r, const void *payload, size_t len, ll_err *err);
LL_API size_t ll_record_n_entries(const ll_record *r, int which);
LL_API void ll_record_entry(const ll_record *r, int which, size_t i, ll_tensor_info *ti);
/* Copies entry i's values in their own type (n_values floats, doubles or int32s). */
LL_API void ll_record_values(const ll_record *r, int which, size_t i, void *dst);
/* Copies entry i's keys (shape 0) or shape (shape 1): n_keys / n_shape uint64s. */
LL_API void ll_record_keys(const ll_record *r, int which, size_t i, int shape, uint64_t *dst);
/* Bytes entries: item k of the value list, or with k = (size_t)-1 the content_type. Returns 0
 * when absent. */
LL_API int ll_record_bytes(const ll_record *r, int which, size_t i, size_t k, const uint8_t **p,
                           size_t *len);
/* The Record's uid (field 3), metadata (4) or configuration (5); 0 when absent. */
LL_API int ll_record_string(const ll_record *r, int field, const uint8_t **p, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* LINLEARN_H */
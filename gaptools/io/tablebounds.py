"""What one table file may cost, bounded before it is spent.

A pupil table is a few thousand rows of a few dozen short cells; a file far
beyond these bounds is damaged or hostile, and is refused with a message
before it costs the memory or time it would take to read.
"""
#: Bounds on what one spreadsheet may expand to (uncompressed bytes, columns, cells).
MAX_XLSX_BYTES = 50 * 2**20
MAX_COLUMNS = 2000
#: The longest value a cell of a pupil table may hold (names, ids and codes are far shorter): a longer one
#: is refused at once, before it costs every later step its length again.
MAX_CELL_CHARS = 10_000
MAX_CELLS = 5_000_000
MAX_SCANNED = 20_000_000
#: Bounds on a Parquet file as its footer describes it (uncompressed bytes, cells).
MAX_PARQUET_BYTES = 2**30
MAX_PARQUET_CELLS = 100_000_000

#pragma once
/// CSV in the dialect spreadsheets use (RFC 4180: comma-separated, fields with commas,
/// quotes or newlines double-quoted).
#include <string>
#include <vector>

namespace hemapath {

using CsvRow = std::vector<std::string>;

/// Parses a whole CSV file; each row keeps its fields as written (quotes removed).
/// Throws InputError naming the file when it is missing or has an unterminated quote.
std::vector<CsvRow> read_csv(const std::string& path);
/// Parses CSV text; `source` names it in errors.
std::vector<CsvRow> parse_csv(const std::string& text, const std::string& source);

/// Quotes a field when it needs it.
std::string csv_escape(const std::string& field);

/// Builds a CSV table in memory and writes it atomically.
class CsvWriter {
 public:
  explicit CsvWriter(CsvRow header) { add_row(header); }
  void add_row(const CsvRow& row);
  const std::string& text() const { return text_; }
  /// Writes the table to `path` (temporary file + rename).
  void write(const std::string& path) const;

 private:
  std::string text_;
};

/// A number as CSV text with up to `digits` significant digits.
std::string format_number(double value, int digits = 6);

}  // namespace hemapath

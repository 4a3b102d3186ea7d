#pragma once
// Expected<T>: a value or an Error. Expected conditions (bad input, infeasible layouts) are returned,
// never thrown past a library boundary; only cli/ and gui/ turn an Error into an exit code or a dialog.
#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace clustersim {

enum class ErrorCode {
  invalid_input,  // the user wrote something that cannot be (exit code 2)
  infeasible,     // valid, but does not fit or cannot run (exit code 1)
  io,             // a file could not be read or written (exit code 3)
  internal,       // a bug (exit code 3)
};

// One error: `path` names the field ("layout.tp", "model.heads"), `message` the reason.
struct Error {
  ErrorCode code = ErrorCode::invalid_input;
  std::string path;
  std::string message;

  [[nodiscard]] std::string what() const { return path.empty() ? message : path + ": " + message; }
};

inline Error invalid(std::string path, std::string message) {
  return Error{ErrorCode::invalid_input, std::move(path), std::move(message)};
}

// A list of errors, for validators that report every problem at once.
using Errors = std::vector<Error>;

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : data_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Expected(Error error) : data_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value() && "Expected::value() on an error"); return std::get<0>(data_); }
  const T& value() const& { assert(has_value() && "Expected::value() on an error"); return std::get<0>(data_); }
  T&& value() && { assert(has_value() && "Expected::value() on an error"); return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const Error& error() const { assert(!has_value() && "Expected::error() on a value"); return std::get<1>(data_); }

 private:
  std::variant<T, Error> data_;
};

}  // namespace clustersim

#include "error_report.hpp"

#include <filesystem>
#include <new>

#include "commands.hpp"
#include "xdense/error.hpp"

namespace xdense::cli {

ErrorReport report_of(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const TrainingDiverged& e) {
    return {exit_diverged, "error: ", e.what()};
  } catch (const Error& e) {
    return {exit_user_error, "error: ", e.what()};
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the OS refused (permissions, symlink loop, name too long): the user's to fix.
    return {exit_user_error, "error: ", (e.path1().empty() ? std::string() : e.path1().string() + ": ") + e.code().message()};
  } catch (const std::bad_alloc&) {
    return {exit_internal_error, "error: ", "out of memory"};
  } catch (const std::exception& e) {
    return {exit_internal_error, "internal error: ", e.what()};
  } catch (...) {
    return {exit_internal_error, "internal error: ", "unknown exception"};
  }
}

}  // namespace xdense::cli

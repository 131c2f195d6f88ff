#pragma once
/// @file config.hpp
/// Build modes. onestone is header-only: `#include <onestone/onestone.hpp>` and nothing else.
/// Programs that link the optional compiled part (CMake target `onestone::compiled`, which
/// defines ONESTONE_COMPILED) compile much faster: the library's templates for `float` and
/// `double` are instantiated once, in that library, and every header declares them
/// `extern template` so that a program's translation units do not instantiate them again.
///
/// `ONESTONE_EXTERN_CLASS(LAYER, Name)` after a class template's member definitions:
///   - header-only use: expands to nothing;
///   - with ONESTONE_COMPILED: `extern template class Name<float>; ... <double>;`
///   - in the compiled part's source of that layer and type (which defines
///     ONESTONE_INSTANTIATE_<LAYER>_FLOAT or _DOUBLE to 1): `template class Name<float>;`.
/// An `extern template` declaration does not stop GCC from instantiating the inline member
/// functions (those defined inside the class), which it may want to inline; so a class template
/// defines its longer member functions below the class, where the declaration does stop them.
/// `ONESTONE_EXTERN_CLASS2(LAYER, Name, Arg)` does the same for `Name<float, Arg>`, and
/// `ONESTONE_EXPLICIT(LAYER_FLOAT, declaration)` for one declaration, e.g. a function template's
/// `Dataset<float> make_data<float>(const Options&)`.

// ONESTONE_IS_ONE(x) is 1 when x expands to 1 and 0 for any identifier that is not defined.
#define ONESTONE_PP_CAT_(a, b) a##b
#define ONESTONE_PP_CAT(a, b) ONESTONE_PP_CAT_(a, b)
#define ONESTONE_PP_SECOND_(a, b, ...) b
#define ONESTONE_PP_SECOND(...) ONESTONE_PP_SECOND_(__VA_ARGS__, 0, 0)
#define ONESTONE_PP_PROBE_1 ~, 1
#define ONESTONE_IS_ONE(x) ONESTONE_PP_SECOND(ONESTONE_PP_CAT(ONESTONE_PP_PROBE_, x))
#define ONESTONE_PP_KW_1 template
#define ONESTONE_PP_KW_0 extern template

#if defined(ONESTONE_COMPILED) || defined(ONESTONE_BUILDING_COMPILED)
#define ONESTONE_EXPLICIT(unit, ...) \
  ONESTONE_PP_CAT(ONESTONE_PP_KW_, ONESTONE_IS_ONE(ONESTONE_INSTANTIATE_##unit)) __VA_ARGS__;
#else
#define ONESTONE_EXPLICIT(unit, ...)
#endif

#define ONESTONE_EXTERN_CLASS(layer, Name)            \
  ONESTONE_EXPLICIT(layer##_FLOAT, class Name<float>) \
  ONESTONE_EXPLICIT(layer##_DOUBLE, class Name<double>)
#define ONESTONE_EXTERN_CLASS2(layer, Name, Arg)           \
  ONESTONE_EXPLICIT(layer##_FLOAT, class Name<float, Arg>) \
  ONESTONE_EXPLICIT(layer##_DOUBLE, class Name<double, Arg>)

/// Non-template functions defined in headers (file readers and writers, the Trainer's logs):
///   - header-only use: `ONESTONE_FUNC` is `inline` and `ONESTONE_DEFINE_FUNCTIONS` is 1, so
///     every translation unit that uses such a function compiles it, as header-only code does;
///   - with ONESTONE_COMPILED: `ONESTONE_DEFINE_FUNCTIONS` is 0, the headers only declare these
///     functions and the program links their one definition from onestone::compiled;
///   - in the compiled part, the one source file that defines ONESTONE_INSTANTIATE_FUNCTIONS to 1
///     compiles them (not inline); its other source files only declare them.
/// A function in this form:
/// @code
/// ONESTONE_FUNC std::string read_text(const std::string& path)
/// #if ONESTONE_DEFINE_FUNCTIONS
/// {
///   ...
/// }
/// #else
///     ;
/// #endif
/// @endcode
#if defined(ONESTONE_COMPILED) || defined(ONESTONE_BUILDING_COMPILED)
#define ONESTONE_FUNC
#define ONESTONE_DEFINE_FUNCTIONS ONESTONE_IS_ONE(ONESTONE_INSTANTIATE_FUNCTIONS)
#else
#define ONESTONE_FUNC inline
#define ONESTONE_DEFINE_FUNCTIONS 1
#endif

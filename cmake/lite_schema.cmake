# Compiles qlite's TFLite schema subset (src/lite/schema/qlite_tflite.fbs) with
# flatc into the build tree; the generated header is never committed.
# Included after qlite_area(lite ...): needs the qlite_lite target.
set(QLITE_TFLITE_FBS ${CMAKE_SOURCE_DIR}/src/lite/schema/qlite_tflite.fbs)
set(QLITE_LITE_GEN_DIR ${CMAKE_BINARY_DIR}/generated/lite)
set(QLITE_TFLITE_HEADER ${QLITE_LITE_GEN_DIR}/qlite_tflite_generated.h)

if(TARGET flatbuffers::flatc)
  set(QLITE_FLATC flatbuffers::flatc)
else()
  find_program(QLITE_FLATC flatc REQUIRED)
endif()

add_custom_command(
  OUTPUT ${QLITE_TFLITE_HEADER}
  COMMAND ${QLITE_FLATC} --cpp --scoped-enums -o ${QLITE_LITE_GEN_DIR} ${QLITE_TFLITE_FBS}
  DEPENDS ${QLITE_TFLITE_FBS}
  COMMENT "flatc: generating qlite_tflite_generated.h"
  VERBATIM)
add_custom_target(qlite_lite_schema DEPENDS ${QLITE_TFLITE_HEADER})

add_dependencies(qlite_lite qlite_lite_schema)
# The generated code is an implementation detail of src/lite: the public header
# include/qlite/lite.h does not expose it.
target_include_directories(qlite_lite PRIVATE ${QLITE_LITE_GEN_DIR})
target_link_libraries(qlite_lite PRIVATE flatbuffers::flatbuffers)
# FlexBuffers (custom ops' options, src/lite/custom_options.cpp) would parse
# numbers through flatbuffers::ClassicLocale, which lives in Debian's static,
# non-PIC libflatbuffers.a and so cannot go into the Python module; qlite
# never changes the C locale, so the plain strtod / strtoll parse the same.
target_compile_definitions(qlite_lite PRIVATE FLATBUFFERS_LOCALE_INDEPENDENT=0)

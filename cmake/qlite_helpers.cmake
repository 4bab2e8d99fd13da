# Per-ISA compile flags, chosen by file name so that a kernel file states its ISA:
#   *_avx2.cpp      -> AVX2 + FMA + F16C
#   *_avx512.cpp    -> AVX-512 F/BW/DQ/VL/VNNI (+ AVX2, FMA)
# Everything else is built for baseline x86-64 (or whatever the compiler targets),
# so the portable path always exists and the binary runs on machines without these.
# GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the merge source of
# all-ones masks, which it then reports as (maybe-)uninitialized wherever they
# inline: a false positive in its own headers, silenced for these files only.
# Files named float_bn*.cpp (BatchNormalization's training kernels),
# elementwise*.cpp (float32 / uint8 RESIZE_BILINEAR among them) and
# int8_kernels*.cpp (MEAN's float finish), whose float arithmetic must match
# the reference bit for bit, are also built with
# -ffp-contract=off, so that no multiply and add of theirs becomes an FMA,
# whatever the ISA.
function(qlite_isa_flags)
  foreach(src ${ARGN})
    set(opts "")
    if(src MATCHES "_avx512\\.cpp$")
      set(opts "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mavx512vnni;-mavx2;-mfma;-mf16c")
      if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        list(APPEND opts "-Wno-maybe-uninitialized;-Wno-uninitialized")
      endif()
    elseif(src MATCHES "_avx2\\.cpp$")
      set(opts "-mavx2;-mfma;-mf16c")
    endif()
    if(src MATCHES "/(float_bn|elementwise|int8_kernels)[a-z0-9_]*\\.cpp$")
      list(APPEND opts "-ffp-contract=off")
    endif()
    if(opts)
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${opts}")
    endif()
  endforeach()
endfunction()

set_property(GLOBAL PROPERTY QLITE_AREAS "")

# qlite_area(name dep...) builds src/<name>/**.cpp into qlite_<name>.
# Dependencies that are areas are written without the qlite_ prefix.
function(qlite_area name)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${name}/*.cpp)
  if(NOT srcs)
    set(stub ${CMAKE_BINARY_DIR}/stub_${name}.cpp)
    file(WRITE ${stub} "// area ${name} has no sources yet\n")
    set(srcs ${stub})
  endif()
  qlite_isa_flags(${srcs})
  add_library(qlite_${name} STATIC ${srcs})
  target_include_directories(qlite_${name} PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  foreach(dep ${ARGN})
    if(TARGET qlite_${dep})
      target_link_libraries(qlite_${name} PUBLIC qlite_${dep})
    else()
      target_link_libraries(qlite_${name} PUBLIC ${dep})
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY QLITE_AREAS qlite_${name})
  if(NOT TARGET qlite_all)
    add_library(qlite_all INTERFACE)
  endif()
  target_link_libraries(qlite_all INTERFACE qlite_${name})
endfunction()

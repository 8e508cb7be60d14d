# Fuzz corpora and regressions replayed without a fuzzer (fuzz/replay.c):
# every seed in corpus/<target>/ and every past finding in
# corpus/regress/<target>/ runs through the target's oracles in the ordinary
# sanitizer build. A finding stays here, failing, until it is fixed.
foreach(t ${MQF_REPLAY_TARGETS})
  if(TARGET replay_${t})
    add_test(NAME fuzz_replay_${t}
             COMMAND replay_${t} ${PROJECT_SOURCE_DIR}/corpus/${t}
                     --optional ${PROJECT_SOURCE_DIR}/corpus/regress/${t})
    set_tests_properties(fuzz_replay_${t} PROPERTIES
      LABELS fuzz TIMEOUT 300
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1")
  endif()
endforeach()

# The AFL++ custom mutator library, loaded as afl-fuzz would, over the seeds.
if(TARGET afl_mutator_check AND TARGET mqf_afl_mutator)
  # directories, read at test time: regenerated seeds never leave stale paths
  add_test(NAME fuzz_afl_mutator
           COMMAND afl_mutator_check $<TARGET_FILE:mqf_afl_mutator>
                   ${PROJECT_SOURCE_DIR}/corpus/stream ${PROJECT_SOURCE_DIR}/corpus/engine)
  set_tests_properties(fuzz_afl_mutator PROPERTIES LABELS fuzz TIMEOUT 120)
endif()

# The seed corpora follow their sources (codec vectors, samples, the suite):
# a vector or scenario added without regenerating the seeds fails here.
find_program(MQF_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(MQF_PYTHON3)
  add_test(NAME fuzz_corpus_fresh
           COMMAND ${MQF_PYTHON3} ${PROJECT_SOURCE_DIR}/fuzz/gen-corpus.py
                   --root ${PROJECT_SOURCE_DIR} --check)
  set_tests_properties(fuzz_corpus_fresh PROPERTIES LABELS fuzz TIMEOUT 60)
endif()

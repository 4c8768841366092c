{
  "targets": [
    {
      "target_name": "dynbatch_native",
      "sources": [
        "<!@(ls -1 native/src/*.cc)",
        "<!@(ls -1 native/src/ops/*.cc)",
        "<!@(ls -1 native/src/gpu/*.cc native/src/gpu/ops/*.cc)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/src"
      ],
      "defines": ["NODE_ADDON_API_CPP_EXCEPTIONS", "NAPI_VERSION=8", "CL_TARGET_OPENCL_VERSION=120"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fopenmp", "-O3", "-Wall", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl", "-lgomp", "-lOpenCL", "-lclblast"]
    }
  ]
}

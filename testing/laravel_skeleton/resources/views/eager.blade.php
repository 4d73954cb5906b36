<x-imgopt-picture :set="$set" :eager="true" alt="x" class="hero" />[<x-imgopt-picture :set="null" />]

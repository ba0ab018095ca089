// libtorch already uses both cores of the CI machine; running model tests side by side only thrashes them.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

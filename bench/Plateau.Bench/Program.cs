using Plateau.Bench;

return BenchmarkDispatch.Run(args);

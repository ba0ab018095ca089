using Plateau.Bench;

return BenchmarkDispatch.Build().Parse(args).Invoke();

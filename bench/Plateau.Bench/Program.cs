Console.Error.WriteLine("usage: plateau-bench <train|allreduce|data|step> [options]");
return 2;

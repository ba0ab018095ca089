using System.CommandLine;

namespace Plateau.Cli.Commands.Jobs;

/// <summary><c>plateau job validate SPEC</c>: load and validate a spec without a coordinator (for CI of spec files).</summary>
public static class JobValidateCommand
{
    public static Command Build()
    {
        var specs = new Argument<string[]>("spec") { Description = "Job spec files (YAML, or JSON when named .json).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("validate", "Check job spec files: every problem is printed with its field; exit code 2 when any is invalid.") { specs };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var exitCode = JobExitCodes.Ok;
            foreach (var path in parse.GetValue(specs)!)
            {
                var (spec, _, errors) = SpecCheck.Load(path);
                if (errors.Count > 0)
                {
                    error.WriteLine($"{path}: {errors.Count} {(errors.Count == 1 ? "problem" : "problems")}");
                    foreach (var e in errors)
                    {
                        error.WriteLine($"  {e}");
                    }

                    exitCode = JobExitCodes.InvalidInput;
                    continue;
                }

                output.WriteLine($"{path}: valid ({SpecCheck.Describe(spec!)})");
            }

            return exitCode;
        });
        return command;
    }
}

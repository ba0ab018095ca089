using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Worker.Training;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>Loads a spec file and validates it the way the coordinator will, before anything is sent.</summary>
public static class SpecCheck
{
    /// <summary>Model names and options are checked against this build's registry, exactly as the coordinator
    /// run from this binary checks them (a standalone coordinator may accept fewer names; it says so).</summary>
    private static readonly ModelCheck RegisteredModels = WorkerModels.Check;

    /// <summary>The spec, its text (sent as is) and every problem found; <c>Spec</c> is null when it did not load.</summary>
    public static (JobSpec? Spec, string Text, IReadOnlyList<SpecError> Errors) Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JobSpec spec;
        try
        {
            spec = JobSpecLoader.LoadFile(path);
        }
        catch (JobSpecInvalidException e)
        {
            return (null, "", e.Errors);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, "", [new SpecError("spec", $"cannot read '{path}': {e.Message}")]);
        }

        return (spec, File.ReadAllText(path), JobSpecValidator.Validate(spec, RegisteredModels));
    }

    /// <summary>Prints "PATH: N problems" and one line per field; returns <see cref="JobExitCodes.InvalidInput"/>.</summary>
    public static int ReportErrors(string path, IReadOnlyList<SpecError> errors, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(error);
        error.WriteLine($"{path}: {errors.Count} {(errors.Count == 1 ? "problem" : "problems")}, nothing was sent");
        foreach (var e in errors)
        {
            error.WriteLine($"  {e}");
        }

        return JobExitCodes.InvalidInput;
    }

    /// <summary>One line saying what the spec asks for.</summary>
    public static string Describe(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var length = spec.Epochs is { } epochs ? $"{epochs} epochs" : $"{spec.Iterations} iterations";
        var batch = spec.Batch.Global is { } global ? $"global batch {global}" : $"{spec.Batch.PerDevice} per device";
        var workers = spec.Workers.Min == spec.Workers.Max ? $"{spec.Workers.Min}" : $"{spec.Workers.Min}-{spec.Workers.Max}";
        return $"model {spec.Model.Name}, {length}, {batch}, {workers} worker(s)";
    }
}

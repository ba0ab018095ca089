using System.Globalization;
using Plateau.Contracts.Specs;
using Plateau.Models.ResNets;
using Plateau.Models.Architecture;
using Plateau.Models.Zoo;

namespace Plateau.Worker.Training;

/// <summary>
/// Builds the job's network from <c>spec.model</c>: a registry name plus text options
/// (<c>shortcut: A|B|C</c>, <c>bottleneck_stride: 3x3|1x1</c>, <c>zero_init_residual</c>, <c>se_reduction</c>,
/// <c>se_squeeze: avg|max|none</c>, <c>se_gate: sigmoid|tanh|relu</c>, <c>se_bias</c>, <c>se_stages: 1,2,3</c>).
/// The class count always comes from the dataset.
/// </summary>
public static class WorkerModels
{
    /// <summary>torch's default generator is process-wide: ranks of one process seed and initialise their
    /// models under this lock so each gets exactly the seed's weights.</summary>
    public static Lock InitialisationLock { get; } = new();

    public static IReadOnlyList<string> OptionNames { get; } =
        ["shortcut", "bottleneck_stride", "zero_init_residual", "se_reduction", "se_squeeze", "se_gate", "se_bias", "se_stages"];

    /// <summary>Checks name and options against the registry (for <see cref="JobSpecValidator"/>).</summary>
    public static IEnumerable<SpecError> Check(ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!ModelRegistry.Contains(model.Name))
        {
            return [new SpecError("spec.model.name", $"unknown model {Plateau.Contracts.Errors.Quote.Value(model.Name)}; known models: {string.Join(", ", ModelRegistry.Names)}")];
        }

        try
        {
            ModelRegistry.Resolve(model.Name, Options(model, numClasses: null));
            return [];
        }
        catch (SpecFieldException e)
        {
            return [new SpecError(e.Field, e.Message)];
        }
        catch (ArgumentException e)
        {
            return [new SpecError("spec.model.options", e.Message)];
        }
    }

    /// <summary>Builds the model on the CPU, He-initialised from <paramref name="seed"/>.</summary>
    public static ResNet Create(ModelSpec model, int numClasses, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (InitialisationLock)
        {
            TorchSharp.torch.manual_seed(seed);
            return ModelRegistry.Create(model.Name, Options(model, numClasses));
        }
    }

    internal static ModelOptions Options(ModelSpec model, int? numClasses)
    {
        var options = new ModelOptions { NumClasses = numClasses };
        SqueezeExcitationOptions? se = null;
        foreach (var (key, value) in model.Options)
        {
            var field = $"spec.model.options.{key}";
            switch (key)
            {
                case "shortcut":
                    options = options with { Shortcut = ParseEnum<ShortcutOption>(field, value, ("A", ShortcutOption.A), ("B", ShortcutOption.B), ("C", ShortcutOption.C)) };
                    break;
                case "bottleneck_stride":
                    options = options with { BottleneckStride = ParseEnum(field, value, ("3x3", BottleneckStride.OnThreeByThree), ("1x1", BottleneckStride.OnFirstOneByOne)) };
                    break;
                case "zero_init_residual":
                    options = options with { ZeroInitResidual = ParseBool(field, value) };
                    break;
                case "se_reduction":
                    se = (se ?? new()) with { Reduction = ParseInt(field, value, 1) };
                    break;
                case "se_squeeze":
                    se = (se ?? new()) with { Squeeze = ParseEnum(field, value, ("avg", SqueezeMode.Average), ("max", SqueezeMode.Max), ("none", SqueezeMode.None)) };
                    break;
                case "se_gate":
                    se = (se ?? new()) with { Gate = ParseEnum(field, value, ("sigmoid", GateFunction.Sigmoid), ("tanh", GateFunction.Tanh), ("relu", GateFunction.ReLU)) };
                    break;
                case "se_bias":
                    se = (se ?? new()) with { Bias = ParseBool(field, value) };
                    break;
                case "se_stages":
                    se = (se ?? new()) with { Stages = [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => ParseInt(field, s, 1))] };
                    break;
                default:
                    throw new SpecFieldException(field, $"unknown model option; valid: {string.Join(", ", OptionNames)}");
            }
        }

        return se is null ? options : options with { SqueezeExcitation = se };
    }

    private static T ParseEnum<T>(string field, string value, params (string Name, T Value)[] choices)
    {
        foreach (var (name, choice) in choices)
        {
            if (string.Equals(name, value.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return choice;
            }
        }

        throw new SpecFieldException(field, $"expected one of {string.Join(", ", choices.Select(c => c.Name))}, got '{value}'");
    }

    private static bool ParseBool(string field, string value) =>
        bool.TryParse(value.Trim(), out var result) ? result : throw new SpecFieldException(field, $"expected true or false, got '{value}'");

    private static int ParseInt(string field, string value, int min) =>
        int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= min
            ? result
            : throw new SpecFieldException(field, $"expected a whole number ≥ {min}, got '{value}'");

    private sealed class SpecFieldException(string field, string message) : ArgumentException(message)
    {
        public string Field { get; } = field;
    }
}

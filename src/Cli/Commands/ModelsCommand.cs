using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Plateau.Cli.Commands.Jobs;
using Plateau.Models.Zoo;

namespace Plateau.Cli.Commands;

/// <summary><c>plateau models [-o table|json|yaml]</c>: every registered network with its exact parameter count and GMACs.</summary>
public static class ModelsCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Build()
    {
        var format = new Option<OutputFormat>("--output", "-o") { Description = "table (default), json (an array of models) or yaml (the same list).", DefaultValueFactory = _ => OutputFormat.Table };
        var command = new Command("models", "List the registered networks: parameters (exact) and multiply-add GFLOPs at native input size.");
        command.Options.Add(format);
        command.SetAction(parseResult => Write(Console.Out, parseResult.GetValue(format)));
        return command;
    }

    /// <summary>Writes the listing; counts come from the architecture, so no weights are allocated.</summary>
    public static int Write(TextWriter output, OutputFormat format)
    {
        ArgumentNullException.ThrowIfNull(output);
        var rows = ModelRegistry.Names.Select(name => ModelRegistry.Describe(name)).ToList();
        if (format != OutputFormat.Table)
        {
            var entries = rows.Select(d => new ModelEntry(d.Name, d.Family.ToString(), d.Depth, d.Block.ToString(), d.Residual,
                d.SqueezeExcitation, d.InputSize, d.NumClasses, d.Parameters, d.MultiplyAdds, Math.Round(d.Cost.GigaMultiplyAdds, 3)));
            var json = JsonSerializer.Serialize(entries, JsonOptions);
            if (format == OutputFormat.Json)
            {
                output.WriteLine(json);
            }
            else
            {
                output.Write(ObjectOutput.ToYaml(json));
            }

            return 0;
        }

        var culture = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(culture, $"{"model",-20} {"family",-8} {"depth",5} {"input",7} {"parameters",12} {"GMACs",8}"));
        foreach (var d in rows)
        {
            output.WriteLine(string.Create(culture,
                $"{d.Name,-20} {d.Family,-8} {d.Depth,5} {d.InputSize + "x" + d.InputSize,7} {d.Parameters,12} {d.Cost.GigaMultiplyAdds,8:F3}"));
        }
        output.WriteLine("GMACs: multiply-adds of convolutions and fc for one image at the native input size, in 10^9.");
        return 0;
    }

    private sealed record ModelEntry(string Name, string Family, int Depth, string Block, bool Residual, bool SqueezeExcitation,
        int InputSize, int NumClasses, long Parameters, long MultiplyAdds, double GigaMultiplyAdds);
}

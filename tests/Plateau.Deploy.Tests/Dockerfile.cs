using System.Text.RegularExpressions;

namespace Plateau.Deploy.Tests;

/// <summary>The repository's Dockerfile read into stages of instructions (continuations joined, comments dropped).</summary>
internal sealed partial class Dockerfile
{
    public sealed record Instruction(string Keyword, string Arguments);

    public sealed record Stage(string Image, string? Name, IReadOnlyList<Instruction> Instructions)
    {
        public IEnumerable<string> Arguments(string keyword) =>
            Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);
    }

    private Dockerfile(IReadOnlyList<Instruction> global, IReadOnlyList<Stage> stages) => (Global, Stages) = (global, stages);

    /// <summary>Instructions before the first FROM (global ARGs).</summary>
    public IReadOnlyList<Instruction> Global { get; }

    public IReadOnlyList<Stage> Stages { get; }

    public Stage Final => Stages[^1];

    public Stage Named(string name) =>
        Stages.SingleOrDefault(s => s.Name == name) ?? throw new InvalidOperationException($"the Dockerfile has no stage named {name}");

    public static Dockerfile Parse(string text)
    {
        var lines = new List<string>();
        var pending = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            lines.Add(pending + line);
            pending = "";
        }

        var global = new List<Instruction>();
        var stages = new List<(string Image, string? Name, List<Instruction> Body)>();
        foreach (var line in lines.Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            var match = InstructionPattern().Match(line.Trim());
            var instruction = new Instruction(match.Groups[1].Value.ToUpperInvariant(), Spaces().Replace(match.Groups[2].Value.Trim(), " "));
            if (instruction.Keyword == "FROM")
            {
                var parts = instruction.Arguments.Split(' ');
                stages.Add((parts[0], parts.Length >= 3 && parts[^2].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[^1] : null, []));
            }
            else if (stages.Count == 0)
            {
                global.Add(instruction);
            }
            else
            {
                stages[^1].Body.Add(instruction);
            }
        }

        return new Dockerfile(global, [.. stages.Select(s => new Stage(s.Image, s.Name, s.Body))]);
    }

    [GeneratedRegex(@"^(\w+)\s*(.*)$")]
    private static partial Regex InstructionPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}

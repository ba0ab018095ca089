using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Plateau.Contracts.Errors;
using Plateau.Models.Zoo;

namespace Plateau.Bench;

/// <summary>Validators and parsers the benchmarks' options share; each error names its option.</summary>
public static class BenchmarkOptions
{
    // Range checks are custom parsers, not validators: a validator reading a value that failed to convert
    // ("--workers abc") throws instead of reporting, and this way both errors name the option.

    /// <summary>Accepts only integers of 1 or more (counts of workers, steps, images...).</summary>
    public static Option<int> Positive(this Option<int> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result => ParseAtLeast(result, option.Name, 1) ?? 0;
        return option;
    }

    /// <summary>Accepts only integers of 1 or more when given; no value means "the benchmark chooses".</summary>
    public static Option<int?> Positive(this Option<int?> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result => ParseAtLeast(result, option.Name, 1);
        return option;
    }

    /// <summary>Accepts only integers from 1 to <paramref name="most"/>; <paramref name="why"/> says where that bound comes from.</summary>
    public static Option<int> PositiveUpTo(this Option<int> option, int most, string why)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result =>
        {
            if (ParseAtLeast(result, option.Name, 1) is not { } value)
            {
                return 0;
            }

            if (value > most)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be at most {most} ({why}), got {value}"));
            }

            return value;
        };
        return option;
    }

    /// <summary>Accepts only integers of 0 or more (warm-up steps may be none).</summary>
    public static Option<int> NonNegative(this Option<int> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.CustomParser = result => ParseAtLeast(result, option.Name, 0) ?? 0;
        return option;
    }

    /// <summary>Rejects a name <c>plateau models</c> does not list.</summary>
    public static TOption RegisteredModel<TOption>(this TOption option)
        where TOption : Option
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name && !ModelRegistry.Contains(name))
            {
                result.AddError($"{option.Name}: unknown model {Quote.Value(name)}; known: {string.Join(", ", ModelRegistry.Names)}");
            }
        });
        return option;
    }

    /// <summary>A positive <see cref="ByteSize"/>; an error naming the option otherwise.</summary>
    public static ByteSize ParseSize(ArgumentResult result, string option, string text)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (ByteSize.TryParse(text, out var size) && size.Bytes > 0)
        {
            return size;
        }
        result.AddError($"{option} takes positive sizes such as 1MiB, 512KiB or 4096 (bytes), got {Quote.Value(text)}");
        return default;
    }

    /// <summary>A link rate such as 2Gbit, 500Mbit or 10Gbit in bits/s; an error naming the option otherwise.</summary>
    public static long ParseBitRate(ArgumentResult result, string option, string text)
    {
        ArgumentNullException.ThrowIfNull(result);
        foreach (var (unit, scale) in new[] { ("Gbit", 1e9), ("Mbit", 1e6) })
        {
            if (text.EndsWith(unit, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^unit.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                && value * scale is >= 1e6 and <= 1e12)
            {
                return (long)(value * scale);
            }
        }
        result.AddError($"{option} takes a link rate from 1Mbit to 1000Gbit such as 2Gbit or 500Mbit, got {Quote.Value(text)}");
        return 0;
    }

    /// <summary>A positive integer, one item of a list option.</summary>
    public static int ParsePositive(ArgumentResult result, string option, string text)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            return n;
        }
        result.AddError($"{option} takes positive integers, got {Quote.Value(text)}");
        return 0;
    }

    /// <summary>The items of the option's comma-separated value (of every occurrence, in order), each parsed by <paramref name="parse"/>.</summary>
    public static T[] ParseList<T>(ArgumentResult result, Func<string, T> parse)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(parse);
        return [.. result.Tokens.SelectMany(t => t.Value.Split(',')).Select(parse)];
    }

    private static int? ParseAtLeast(ArgumentResult result, string option, int least)
    {
        if (result.Tokens.Count == 0)
        {
            return null; // the missing value is System.CommandLine's error to report
        }
        var text = result.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= least)
        {
            return value;
        }
        result.AddError($"{option} must be {(least == 1 ? "a positive integer" : string.Create(CultureInfo.InvariantCulture, $"an integer of at least {least}"))}, got {Quote.Value(text)}");
        return null;
    }
}

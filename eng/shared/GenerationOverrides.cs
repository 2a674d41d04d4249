using System.Globalization;
using Dsg.Core.Generation;

namespace Dsg.Eng;

/// <summary>Applies "Key=Value,Key=Value" assignments to <see cref="GenerationOptions"/> properties (the eng harnesses' --set/--generator lists).</summary>
internal static class GenerationOverrides
{
    public static GenerationOptions Apply(GenerationOptions options, string assignments)
    {
        options = options with { };
        foreach (var assignment in assignments.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = assignment.Split('=', 2);
            var property = typeof(GenerationOptions).GetProperty(parts[0])
                ?? throw new ArgumentException($"GenerationOptions has no property '{parts[0]}'");
            if (parts.Length != 2)
            {
                throw new ArgumentException($"'{assignment}' is not Key=Value");
            }

            object value = property.PropertyType.IsEnum
                ? Enum.Parse(property.PropertyType, parts[1], ignoreCase: true)
                : Convert.ChangeType(parts[1], property.PropertyType, CultureInfo.InvariantCulture);
            property.SetValue(options, value);
        }

        return options;
    }
}

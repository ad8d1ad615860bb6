{% macro round_half_away_766(expr, digits) -%}
    {#- Round half away from zero to `digits` decimals (a constant or a column). The scaled DOUBLE is first
        fixed to 9 decimals so that binary noise (7884.4999999 for 78.845 x 100) cannot move the result;
        DuckDB rounds DECIMAL half away from zero. -#}
    (cast(round(cast(({{ expr }}) * power(10, {{ digits }}) as decimal(38, 9)), 0) as double)
        / power(10, {{ digits }}))
{%- endmacro %}

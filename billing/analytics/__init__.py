"""Programme analytics for the dashboard: figures, chart series, XIRR, business case, simulator and exports."""
